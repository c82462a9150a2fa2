"""Finds the domain's app factory by its ``module:function`` name.

This is how ``streams worker`` runs the agents of ``agents/`` without the
platform importing the domain: the name comes from settings (``STREAMS_APP_FACTORY``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, cast

import faust

from streams.errors import ConfigError
from streams.settings import Settings

__all__ = ["AppFactory", "beside_factory", "load_callable", "load_factory"]

AppFactory = Callable[[Settings], faust.App]


def load_factory(path: str) -> AppFactory:
    return cast(AppFactory, load_callable(path))


def load_callable(path: str) -> Callable[..., Any]:
    """The function named ``module:function`` (the app factory, or what its module offers beside it)."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"app factory {path!r} is not of the form module:function")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"cannot import {module_name!r} for the app factory: {exc}",
                          hint="check STREAMS_APP_FACTORY") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ConfigError(f"{path!r} is not a function", hint="check STREAMS_APP_FACTORY")
    return cast(Callable[..., Any], factory)


def beside_factory(settings: Settings, name: str) -> Callable[..., Any]:
    """The function ``name`` of the app factory's module: what the domain offers the CLI beside ``create_app``
    (``create_ingest``, ``create_demo``, ``read_models``)."""
    module = settings.app_factory.partition(":")[0]
    return load_callable(f"{module}:{name}")

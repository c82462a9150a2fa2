"""The Faust web server's runner, replaced so that requests aiohttp cannot parse get JSON errors.

Faust's aiohttp driver (``faust.web.drivers.aiohttp.Web``) builds its
``AppRunner`` in ``__init__`` and starts it in ``start_server``, and offers no
setting for the runner's class; ``serve_protocol_errors_as_json`` swaps in a
``streams.web.protocol.JsonErrorAppRunner`` built the same way (pinned in
``pins.py``).  Call it before the worker starts its web server.
"""

from __future__ import annotations

from typing import Any

from streams.web.protocol import JsonErrorAppRunner

__all__ = ["serve_protocol_errors_as_json"]


def serve_protocol_errors_as_json(app: Any) -> None:
    web = app.web
    web._runner = JsonErrorAppRunner(web.web_app, access_log=None)  # as Web.__init__ builds it

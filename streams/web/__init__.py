"""HTTP pieces shared by every worker: JSON errors, /health, /metrics, /openapi.json, view helpers."""

from streams.web.errors import error_body, install_error_middleware, json_error
from streams.web.health import health_state, register_health
from streams.web.lag_views import register_lag
from streams.web.metrics import Metrics, register_metrics_route
from streams.web.openapi import register_openapi
from streams.web.views import JsonView, after_param, routed, wait_param

__all__ = [
    "JsonView", "Metrics", "after_param", "error_body", "health_state", "install_error_middleware",
    "json_error", "register_health", "register_lag", "register_metrics_route", "register_openapi",
    "routed", "wait_param",
]

"""Settings of the order domain: the saga and the simulated services, from the environment (prefix STREAMS_).

The platform's ``streams.settings.Settings`` knows nothing of orders; these are
the domain's own, read once by ``agents.app.create_app`` and passed on
explicitly.
"""

from __future__ import annotations

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.errors import ConfigError
from streams.settings import explain_invalid

__all__ = ["SERVICES", "OrderSettings", "order_settings"]

SERVICES = ("payments", "inventory", "shipping")
"""The services the saga sends commands to, by the topic each listens on."""


class OrderSettings(BaseSettings):
    """How the order saga runs, and how the simulated payment, inventory and shipping services behave."""

    model_config = SettingsConfigDict(env_prefix="STREAMS_", frozen=True, extra="ignore")

    saga: bool = Field(default=True, description="this worker drives order sagas (payment, stock, shipment)")
    saga_step_timeout_s: float = Field(
        default=5.0, gt=0, le=86_400,
        description="how long a saga step waits for its service's answer before the command is sent again",
    )
    saga_max_attempts: int = Field(
        default=3, ge=1, le=100,
        description="sends of a step's command before the step counts as failed (each wait twice the last, jittered)",
    )
    saga_tick_s: float = Field(default=0.5, gt=0, le=60, description="how often a worker looks for saga deadlines "
                                                                      "that passed")
    simulated_services: bool = Field(
        default=False,
        description="run the simulated payment, inventory and shipping services in this worker (`make run` and the "
                    "compose file turn them on; leave off when real services answer on those topics)",
    )
    sim_payment_failure_rate: float = Field(default=0.0, ge=0, le=1,
                                            description="share of payments the simulated service declines")
    sim_payment_limit_minor: int = Field(default=10**12, ge=0,
                                         description="the simulated payment service declines amounts above it")
    sim_shipping_failure_rate: float = Field(default=0.0, ge=0, le=1,
                                             description="share of shipments the simulated service cannot create")
    sim_latency_ms: float = Field(default=0.0, ge=0, le=60_000,
                                  description="how long each simulated service takes to answer a command")
    sim_silent: str = Field(default="", description="simulated services that never answer (comma separated: "
                                                    "payments,inventory,shipping): their saga steps time out",
                            examples=["shipping"])
    sim_stock: int = Field(default=100, ge=0, description="units of each SKU the simulated warehouse starts with")
    sim_warehouse: str = Field(default="main", min_length=1, pattern=r"^\S+$",
                               description="the warehouse inventory commands go to (a name without spaces)")

    @field_validator("sim_silent")
    @classmethod
    def _known_services(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(SERVICES))
        if unknown:
            raise ValueError(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICES)}")
        return ",".join(names)

    @property
    def silent(self) -> frozenset[str]:
        return frozenset(name for name in self.sim_silent.split(",") if name)


def order_settings() -> OrderSettings:
    """The domain's settings from the environment; a bad value is a ``ConfigError`` naming the variable, in one line
    (as the platform's settings say theirs), not a traceback."""
    try:
        return OrderSettings()
    except ValidationError as exc:
        raise ConfigError(explain_invalid(exc, OrderSettings)) from None

"""The registry on its own event loop in a background thread (tests, benchmarks, scripts)."""

from __future__ import annotations

import asyncio
import threading

from streams.connection import KafkaConnection
from streams.registry.server import RegistryServer

__all__ = ["ThreadedRegistry"]


class ThreadedRegistry:
    def __init__(self, kafka: KafkaConnection, topic: str = "_schemas", port: int | None = None) -> None:
        self.server = RegistryServer(kafka, port=port or 0, topic=topic)  # 0: a free port, chosen at bind
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="registry-loop", daemon=True)

    def start(self) -> ThreadedRegistry:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(60)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()

    @property
    def url(self) -> str:
        return self.server.url

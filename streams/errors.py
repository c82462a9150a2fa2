"""Errors that classify themselves.

One root, ``StreamsError``; each branch says by class flags whether it is worth
retrying (``retriable``) and whether a record that raised it belongs in a
dead-letter topic (``dead_letter``).  Deciding retry-or-dead-letter is then a
lookup on the exception, not a chain of ``isinstance`` checks (aiokafka's
``errors.py`` works the same way).  ``http_status`` and ``code`` let the HTTP
layer answer any of them as a JSON error without a table of its own.
"""

from __future__ import annotations

__all__ = [
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "DeadlineError",
    "DecodeError",
    "DevstackError",
    "NotFoundError",
    "StreamsError",
    "TransientError",
    "ValidationError",
]


class StreamsError(Exception):
    """Root of every error this project raises on purpose."""

    retriable: bool = False
    dead_letter: bool = True
    http_status: int = 500
    code: str = "internal_error"
    attempts: int = 1

    def __init__(self, message: str, *, hint: str | None = None,
                 details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def one_line(self) -> str:
        """The message and, when there is one, what to do about it."""
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(StreamsError):
    """Settings or command-line input that cannot work."""

    dead_letter = False
    http_status = 400
    code = "bad_config"


class DevstackError(StreamsError):
    """A local component (broker, registry, worker) could not start or stop."""

    dead_letter = False
    code = "devstack_error"

    def __init__(self, message: str, *, hint: str | None = None, log_path: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.log_path = log_path

    def one_line(self) -> str:
        line = super().one_line()
        return f"{line}; log: {self.log_path}" if self.log_path else line


class DecodeError(StreamsError):
    """Bytes that are not a record we can read (wire format, schema id, Avro)."""

    http_status = 400
    code = "decode_error"


class BadRequestError(StreamsError):
    """A request that cannot be read at all (a malformed parameter or body), before any content rule applies."""

    dead_letter = False
    http_status = 400
    code = "bad_request"


class ValidationError(StreamsError):
    """A well-formed record whose content breaks the event's rules."""

    http_status = 422
    code = "validation_error"


class NotFoundError(StreamsError):
    """A key, subject, schema or route that does not exist."""

    dead_letter = False
    http_status = 404
    code = "not_found"


class ConflictError(StreamsError):
    """The request contradicts the current state (for example an incompatible schema)."""

    dead_letter = False
    http_status = 409
    code = "conflict"


class TransientError(StreamsError):
    """A dependency failed in a way that may clear by itself: retry with backoff."""

    retriable = True
    http_status = 503
    code = "unavailable"


class DeadlineError(StreamsError):
    """Waited for something (an offset, a broker) that did not come in time."""

    retriable = True
    dead_letter = False
    http_status = 504
    code = "timeout"

"""Confluent Schema Registry's errors: HTTP status plus its numeric ``error_code``.

Bodies are ``{"error_code": 40401, "message": "..."}`` as Confluent's clients expect.
"""

from __future__ import annotations

from streams.errors import ConflictError, DeadlineError, NotFoundError, StreamsError, TransientError, ValidationError

__all__ = [
    "BadRequestError",
    "IncompatibleSchemaError",
    "InvalidCompatibilityLevelError",
    "InvalidSchemaError",
    "InvalidVersionError",
    "ReferenceExistsError",
    "RegistryError",
    "SchemaNotFoundError",
    "SubjectLevelConfigNotFoundError",
    "SubjectNotFoundError",
    "SubjectNotSoftDeletedError",
    "VersionNotFoundError",
    "VersionNotSoftDeletedError",
    "error_response",
]

# Confluent's codes for failures of the registry itself (not of the request).
BACKEND_STORE_ERROR = 50001
OPERATION_TIMEOUT = 50002


class RegistryError(StreamsError):
    error_code: int = 50001
    dead_letter = False

    def body(self) -> dict[str, object]:
        return {"error_code": self.error_code, "message": self.message}


class SubjectNotFoundError(RegistryError, NotFoundError):
    error_code = 40401


class VersionNotFoundError(RegistryError, NotFoundError):
    error_code = 40402


class SchemaNotFoundError(RegistryError, NotFoundError):
    error_code = 40403


class SubjectNotSoftDeletedError(RegistryError, NotFoundError):
    error_code = 40405


class VersionNotSoftDeletedError(RegistryError, NotFoundError):
    error_code = 40407


class SubjectLevelConfigNotFoundError(RegistryError, NotFoundError):
    error_code = 40408


class InvalidSchemaError(RegistryError, ValidationError):
    error_code = 42201


class InvalidVersionError(RegistryError, ValidationError):
    error_code = 42202


class InvalidCompatibilityLevelError(RegistryError, ValidationError):
    error_code = 42203


class ReferenceExistsError(RegistryError, ValidationError):
    error_code = 42206


class IncompatibleSchemaError(RegistryError, ConflictError):
    error_code = 409


class BadRequestError(RegistryError):
    error_code = 400
    http_status = 400
    code = "bad_request"


def error_response(exc: BaseException) -> tuple[int, dict[str, object]]:
    """HTTP status and Confluent's JSON body for any exception a handler raised.

    Registry errors carry their own code; other project errors keep their HTTP
    status (a broker outage is a 5xx, never bad input); anything else is a
    500 whose message says nothing about the internals.
    """
    if isinstance(exc, RegistryError):
        return exc.http_status, exc.body()
    if isinstance(exc, TransientError | DeadlineError):
        return exc.http_status, {"error_code": OPERATION_TIMEOUT, "message": exc.one_line()}
    if isinstance(exc, StreamsError):
        status = exc.http_status if exc.http_status >= 400 else 500
        code = status * 100 + 1 if status < 500 else BACKEND_STORE_ERROR
        return status, {"error_code": code, "message": exc.one_line()}
    return 500, {"error_code": BACKEND_STORE_ERROR, "message": "Error in the backend data store"}

"""Confluent Schema Registry's errors: HTTP status plus its numeric ``error_code``.

Bodies are ``{"error_code": 40401, "message": "..."}`` as Confluent's clients expect.
"""

from __future__ import annotations

from streams.errors import ConflictError, NotFoundError, StreamsError, ValidationError

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
]


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

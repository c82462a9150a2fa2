"""Confluent's error codes and bodies, and the mapping of any exception to a 4xx/5xx JSON answer."""

from __future__ import annotations

import pytest

from streams.errors import ConflictError, NotFoundError, StreamsError, TransientError, ValidationError
from streams.registry.errors import (
    BadRequestError,
    IncompatibleSchemaError,
    InvalidCompatibilityLevelError,
    InvalidSchemaError,
    InvalidVersionError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    VersionNotFoundError,
    error_response,
)


@pytest.mark.parametrize(("exc", "status", "code", "family"), [
    (SubjectNotFoundError("Subject 's' not found."), 404, 40401, NotFoundError),
    (VersionNotFoundError("Version 3 not found."), 404, 40402, NotFoundError),
    (SchemaNotFoundError("Schema 7 not found"), 404, 40403, NotFoundError),
    (InvalidSchemaError("Invalid schema"), 422, 42201, ValidationError),
    (InvalidVersionError("bad version"), 422, 42202, ValidationError),
    (InvalidCompatibilityLevelError("bad level"), 422, 42203, ValidationError),
    (IncompatibleSchemaError("incompatible"), 409, 409, ConflictError),
    (BadRequestError("not JSON"), 400, 400, StreamsError),
])
def test_registry_errors_answer_confluents_codes(exc: StreamsError, status: int, code: int,
                                                  family: type[StreamsError]) -> None:
    assert isinstance(exc, family)
    assert error_response(exc) == (status, {"error_code": code, "message": exc.message})


def test_a_kafka_outage_is_a_5xx_with_confluents_timeout_code() -> None:
    status, body = error_response(TransientError("cannot reach Kafka", hint="is the broker running?"))
    assert status >= 500
    assert body["error_code"] == 50002
    assert "cannot reach Kafka" in str(body["message"])


def test_an_unexpected_error_says_nothing_about_internals() -> None:
    status, body = error_response(KeyError("secret internals"))
    assert status == 500
    assert body == {"error_code": 50001, "message": "Error in the backend data store"}


def test_registry_errors_never_go_to_a_dead_letter_topic() -> None:
    assert not SubjectNotFoundError("x").dead_letter
    assert not IncompatibleSchemaError("x").dead_letter

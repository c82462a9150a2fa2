import pytest

from streams import errors


@pytest.mark.parametrize(
    ("cls", "retriable", "dead_letter", "status"),
    [
        (errors.DecodeError, False, True, 400),
        (errors.ValidationError, False, True, 422),
        (errors.NotFoundError, False, False, 404),
        (errors.TransientError, True, True, 503),
        (errors.DeadlineError, True, False, 504),
        (errors.ConflictError, False, False, 409),
    ],
)
def test_errors_classify_themselves(cls: type[errors.StreamsError], retriable: bool, dead_letter: bool,
                                    status: int) -> None:
    exc = cls("boom")
    assert isinstance(exc, errors.StreamsError)
    assert (exc.retriable, exc.dead_letter, exc.http_status) == (retriable, dead_letter, status)


def test_one_line_names_the_hint_and_log() -> None:
    exc = errors.DevstackError("java not found", hint="install a JDK", log_path="/tmp/x.log")
    assert exc.one_line() == "java not found (install a JDK); log: /tmp/x.log"

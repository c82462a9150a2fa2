import random

import pytest

from streams.errors import TransientError, ValidationError
from streams.retry import RetryPolicy, retry_async


async def test_transient_errors_are_retried_until_success() -> None:
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("registry down")
        return "ok"

    result, attempts = await retry_async(flaky, RetryPolicy(max_attempts=5, base_delay_s=0.001))
    assert (result, attempts) == ("ok", 3)


async def test_permanent_errors_are_not_retried_and_attempts_are_recorded() -> None:
    async def bad() -> None:
        raise ValidationError("nope")

    with pytest.raises(ValidationError) as info:
        await retry_async(bad, RetryPolicy(max_attempts=5, base_delay_s=0.001))
    assert info.value.attempts == 1


async def test_retries_are_bounded() -> None:
    async def down() -> None:
        raise TransientError("still down")

    with pytest.raises(TransientError) as info:
        await retry_async(down, RetryPolicy(max_attempts=4, base_delay_s=0.001))
    assert info.value.attempts == 4


def test_full_jitter_stays_under_the_capped_exponential() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=1.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed delay


async def test_a_first_failure_made_by_the_caller_counts_as_attempt_one() -> None:
    calls = []

    async def down() -> None:
        calls.append(1)
        raise TransientError("still down")

    with pytest.raises(TransientError) as info:
        await retry_async(down, RetryPolicy(max_attempts=3, base_delay_s=0.001), failed=TransientError("first"))
    assert len(calls) == 2  # attempts 2 and 3
    assert info.value.attempts == 3

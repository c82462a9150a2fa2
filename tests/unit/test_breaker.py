"""The circuit breaker's state machine: opening after consecutive exhausted records, backoff of probes, reset."""

from streams.breaker import BreakerPolicy, BreakerState, CircuitBreaker


def test_the_breaker_opens_when_threshold_records_in_a_row_run_out_of_retries() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=3))
    assert breaker.state is BreakerState.CLOSED
    assert breaker.record_exhausted() is False
    assert breaker.record_exhausted() is False
    assert breaker.state is BreakerState.CLOSED
    assert breaker.record_exhausted() is True
    assert breaker.state is BreakerState.OPEN


def test_a_threshold_of_one_opens_on_the_first_exhausted_record() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=1))
    assert breaker.record_exhausted() is True
    assert breaker.state is BreakerState.OPEN


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=3))
    breaker.record_exhausted()
    breaker.record_exhausted()
    breaker.record_success()
    assert breaker.record_exhausted() is False
    assert breaker.record_exhausted() is False
    assert breaker.record_exhausted() is True


def test_each_failed_probe_doubles_the_wait_up_to_the_cap() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=1, open_s=1.0, max_open_s=5.0))
    breaker.record_exhausted()
    waits = [breaker.next_wait()]
    for _ in range(5):
        breaker.half_open()
        assert breaker.state is BreakerState.HALF_OPEN
        breaker.probe_failed()
        assert breaker.state is BreakerState.OPEN
        waits.append(breaker.next_wait())
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_a_success_closes_the_breaker_and_restores_the_first_wait() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=2, open_s=0.5, max_open_s=10.0))
    breaker.record_exhausted()
    breaker.record_exhausted()
    breaker.half_open()
    breaker.probe_failed()
    breaker.half_open()
    breaker.probe_failed()
    assert breaker.next_wait() == 2.0
    breaker.half_open()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.next_wait() == 0.5
    assert breaker.record_exhausted() is False  # the count starts again


def test_the_states_are_the_metric_values() -> None:
    assert [int(s) for s in (BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN)] == [0, 1, 2]

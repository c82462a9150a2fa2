"""The circuit breaker's state machine: opened by a record out of retries, backoff of probes, reset."""

from streams.breaker import BreakerPolicy, BreakerState, CircuitBreaker


def test_the_first_record_out_of_retries_opens_the_breaker_and_says_what_it_waits_for() -> None:
    breaker = CircuitBreaker(BreakerPolicy())
    assert (breaker.state, breaker.waiting_for) == (BreakerState.CLOSED, None)
    breaker.open("RegistryUnavailableError: registry down")
    assert (breaker.state, breaker.waiting_for) == (BreakerState.OPEN, "RegistryUnavailableError: registry down")


def test_each_failed_probe_doubles_the_wait_up_to_the_cap() -> None:
    breaker = CircuitBreaker(BreakerPolicy(open_s=1.0, max_open_s=5.0))
    breaker.open("first")
    waits = [breaker.next_wait()]
    for attempt in range(5):
        breaker.half_open()
        assert breaker.state is BreakerState.HALF_OPEN
        breaker.probe_failed(f"probe {attempt}")
        assert breaker.state is BreakerState.OPEN
        waits.append(breaker.next_wait())
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert breaker.waiting_for == "probe 4"


def test_a_success_closes_the_breaker_and_restores_the_first_wait() -> None:
    breaker = CircuitBreaker(BreakerPolicy(open_s=0.5, max_open_s=10.0))
    breaker.open("down")
    for _ in range(2):
        breaker.half_open()
        breaker.probe_failed("still down")
    assert breaker.next_wait() == 2.0
    breaker.half_open()
    breaker.record_success()
    assert (breaker.state, breaker.waiting_for) == (BreakerState.CLOSED, None)
    assert breaker.next_wait() == 0.5


def test_the_states_are_the_metric_values() -> None:
    assert [int(s) for s in (BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN)] == [0, 1, 2]

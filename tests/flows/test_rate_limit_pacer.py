"""The pacer keeps concurrent requests under the quota the Hub announces."""

from __future__ import annotations

import threading
import time

import pytest

from hubgenome.flows import hub_client
from hubgenome.flows.hub_client import RateLimitPacer


def _headers(remaining: int, reset: int, quota: int = 10, window: int = 2) -> dict[str, str]:
    return {
        "RateLimit": f'"api";r={remaining};t={reset}',
        "RateLimit-Policy": f'"fixed window";"api";q={quota};w={window}',
    }


def test_unknown_bucket_does_not_wait():
    pacer = RateLimitPacer()
    assert pacer.acquire("api") == 0.0


def test_waits_for_reset_once_nothing_remains():
    pacer = RateLimitPacer(margin_seconds=0.0)
    pacer.acquire("api")
    pacer.release("api", _headers(remaining=0, reset=1))
    started = time.monotonic()
    waited = pacer.acquire("api")
    assert time.monotonic() - started >= 0.9  # it really blocked (how long exactly: the test below)
    assert waited >= 0.9


class _SimulatedWaits(threading.Condition):
    """The pacer's condition on a simulated clock: a wait moves the clock by its timeout at once."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0
        self.timeouts: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None, "the pacer waits for a reset, never forever"
        self.timeouts.append(timeout)
        self.now += timeout
        return False


def test_waits_until_the_reset_and_no_longer(monkeypatch):
    simulated = _SimulatedWaits()
    monkeypatch.setattr(hub_client, "time", simulated)  # the pacer's time.monotonic()
    pacer = RateLimitPacer(margin_seconds=0.0)
    pacer._lock = simulated
    pacer.acquire("api")
    pacer.release("api", _headers(remaining=0, reset=1, quota=10, window=2))
    assert pacer.acquire("api") == pytest.approx(1.0)  # the reset (t=1), not the window (w=2)
    assert simulated.timeouts == [pytest.approx(1.0)]
    assert pacer.acquire("api") == 0.0  # the new window holds the published quota
    assert simulated.timeouts == [pytest.approx(1.0)]


def test_in_flight_requests_count_against_remaining():
    pacer = RateLimitPacer(margin_seconds=0.0)
    pacer.acquire("api")
    pacer.release("api", _headers(remaining=3, reset=60))
    # Three may go out at once; the fourth must wait for the window.
    for _ in range(3):
        assert pacer.acquire("api") < 0.05
    blocked = threading.Event()

    def fourth() -> None:
        pacer.acquire("api")
        blocked.set()

    worker = threading.Thread(target=fourth, daemon=True)
    worker.start()
    assert not blocked.wait(0.3)


def test_disabled_pacer_never_waits():
    pacer = RateLimitPacer(enabled=False)
    pacer.acquire("api")
    pacer.release("api", _headers(remaining=0, reset=60))
    assert pacer.acquire("api") == 0.0


def test_buckets_are_independent():
    pacer = RateLimitPacer()
    pacer.acquire("api")
    pacer.release("api", _headers(remaining=0, reset=60))
    assert pacer.acquire("resolvers") < 0.05

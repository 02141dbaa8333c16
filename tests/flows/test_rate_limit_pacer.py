"""The pacer keeps concurrent requests under the quota the Hub announces."""

from __future__ import annotations

import threading
import time

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
    assert 0.9 <= time.monotonic() - started <= 1.5
    assert waited >= 0.9


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

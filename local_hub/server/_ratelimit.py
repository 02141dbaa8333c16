"""The Hub's rate limiting, reproduced: fixed-window request buckets per client.

The real Hub counts requests per client in fixed windows (5 minutes) and separate buckets ("api"
for ``/api/...``, "resolvers" for file downloads), announces the state on every answer with the
IETF draft headers ``RateLimit: "api";r=<remaining>;t=<seconds to reset>`` and
``RateLimit-Policy: "fixed window";"api";q=<quota>;w=<window>``, and answers 429 once a bucket is
empty. A crawler that paces itself on those headers can be tested here without waiting for the
real Hub to throttle it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

#: The quota announced for a bucket without a limit (a client pacing on it never waits).
UNLIMITED_QUOTA = 1_000_000_000

#: Names of the buckets, as the Hub spells them in its headers.
BUCKETS: tuple[str, ...] = ("api", "resolvers")


@dataclass(frozen=True)
class RateLimitDecision:
    """The outcome of counting one request.

    Attributes
    ----------
    allowed
        False when the request is over its bucket's quota (answer 429).
    remaining
        Requests left in the current window after this one (``r=``).
    reset_seconds
        Whole seconds until the window resets (``t=``, rounded up, at least 1).
    headers
        The ``RateLimit`` and ``RateLimit-Policy`` headers to send with the answer.
    """

    allowed: bool
    remaining: int
    reset_seconds: int
    headers: tuple[tuple[bytes, bytes], ...]


class RateLimiter:
    """Fixed-window counters, one per (bucket, client).

    Windows are aligned on the limiter's creation time: window ``k`` covers
    ``[start + k*w, start + (k+1)*w)`` for every client, as a fixed-window limiter does.

    Parameters
    ----------
    quotas
        Requests allowed per window, by bucket name; ``None`` or ``0`` means unlimited (the headers
        then announce :data:`UNLIMITED_QUOTA`).
    window_seconds
        Length of a window in seconds (the Hub uses 300).
    clock
        A monotonic clock, replaceable in tests.

    Examples
    --------
    >>> limiter = RateLimiter({"api": 2, "resolvers": None}, window_seconds=300)
    >>> [limiter.hit("api", "client").allowed for _ in range(3)]
    [True, True, False]
    """

    def __init__(
        self,
        quotas: dict[str, int | None],
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not window_seconds > 0:
            msg = f"window_seconds must be > 0, got {window_seconds}"
            raise ValueError(msg)
        self.window_seconds = float(window_seconds)
        self.quotas = {bucket: (quota or None) for bucket, quota in quotas.items()}
        for bucket, quota in self.quotas.items():
            if quota is not None and quota < 0:
                msg = f"the {bucket} quota must be >= 0 (0 or None = unlimited), got {quota}"
                raise ValueError(msg)
        self._clock = clock
        self._start = clock()
        self._counts: dict[tuple[str, str], list[int]] = {}
        window = max(1, math.ceil(self.window_seconds))
        self._policy = {
            bucket: f'"fixed window";"{bucket}";q={quota or UNLIMITED_QUOTA};w={window}'.encode()
            for bucket, quota in self.quotas.items()
        }

    def hit(self, bucket: str, client: str) -> RateLimitDecision:
        """Count one request of ``client`` in ``bucket`` and say whether it may be served."""
        elapsed = self._clock() - self._start
        window = int(elapsed // self.window_seconds)
        reset = max(1, math.ceil((window + 1) * self.window_seconds - elapsed))
        key = (bucket, client)
        entry = self._counts.get(key)
        if entry is None or entry[0] != window:
            if len(self._counts) > 10_000:
                self._forget_before(window)
            entry = self._counts[key] = [window, 0]
        entry[1] += 1
        quota = self.quotas.get(bucket)
        limit = quota if quota is not None else UNLIMITED_QUOTA
        remaining = max(0, limit - entry[1])
        allowed = quota is None or entry[1] <= quota
        headers = (
            (b"ratelimit", f'"{bucket}";r={remaining};t={reset}'.encode()),
            (b"ratelimit-policy", self._policy[bucket]),
        )
        return RateLimitDecision(allowed, remaining, reset, headers)

    def _forget_before(self, window: int) -> None:
        for key in [key for key, (seen, _) in self._counts.items() if seen < window]:
            del self._counts[key]

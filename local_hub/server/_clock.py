"""The living Hub's simulated clock: when "now" is, for events, ``Date`` headers and the truth.

A crawler proven against a Hub that changes while it is crawled needs those changes to land at
reproducible moments, not at the mercy of wall time. :class:`HubClock` is a simulated clock that
only moves when told to: by :meth:`HubClock.advance` / :meth:`HubClock.set` (tests), by a fixed
step per Hub request (``seconds_per_request``: events then happen *during* a crawl, at the same
requests on every run), or scaled on real time (``speed``: simulated seconds per real second, for
the CLI). It never goes backwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime


def http_date(moment: datetime) -> str:
    """``moment`` as an RFC 7231 ``Date`` header value (IMF-fixdate, always GMT).

    Examples
    --------
    >>> http_date(datetime(2024, 7, 12, 17, 4, 39, tzinfo=UTC))
    'Fri, 12 Jul 2024 17:04:39 GMT'
    """
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def iso_z(moment: datetime) -> str:
    """``moment`` in the Hub API's ISO form, e.g. ``2024-07-12T17:04:39.000Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_moment(value: str | datetime) -> datetime:
    """An aware UTC datetime from an ISO string (``Z`` accepted) or a datetime (naive = UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class HubClock:
    """A simulated clock that never goes backwards.

    Parameters
    ----------
    start
        The simulated moment the clock starts at (naive datetimes are UTC).
    seconds_per_request
        Simulated seconds each request to a Hub route adds (see :meth:`tick`); 0 = none.
    speed
        Simulated seconds per real second (0 = the clock stands still between explicit moves).
    monotonic
        The real clock ``speed`` scales (replaceable in tests).

    Examples
    --------
    >>> clock = HubClock(datetime(2024, 7, 12, tzinfo=UTC), seconds_per_request=60)
    >>> clock.tick().isoformat()
    '2024-07-12T00:01:00+00:00'
    >>> clock.advance(3600).isoformat()
    '2024-07-12T01:01:00+00:00'
    """

    def __init__(
        self,
        start: datetime | str,
        *,
        seconds_per_request: float = 0.0,
        speed: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if seconds_per_request < 0 or speed < 0:
            msg = f"seconds_per_request and speed must be >= 0, got {seconds_per_request} and {speed}"
            raise ValueError(msg)
        self.seconds_per_request = float(seconds_per_request)
        self.speed = float(speed)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._anchor_sim = parse_moment(start)
        self._anchor_real = monotonic()

    def now(self) -> datetime:
        """The current simulated moment (aware, UTC)."""
        with self._lock:
            return self._now()

    def _now(self) -> datetime:
        if not self.speed:
            return self._anchor_sim
        return self._anchor_sim + timedelta(seconds=(self._monotonic() - self._anchor_real) * self.speed)

    def _move_to(self, moment: datetime) -> datetime:
        self._anchor_sim = moment
        self._anchor_real = self._monotonic()
        return moment

    def advance(self, seconds: float) -> datetime:
        """Move the clock ``seconds`` forward; returns the new now."""
        if seconds < 0:
            msg = f"the hub clock never goes backwards: advance({seconds}) needs seconds >= 0"
            raise ValueError(msg)
        with self._lock:
            return self._move_to(self._now() + timedelta(seconds=seconds))

    def set(self, moment: datetime | str) -> datetime:
        """Move the clock to ``moment`` (not before now); returns the new now."""
        target = parse_moment(moment)
        with self._lock:
            current = self._now()
            if target < current:
                msg = (
                    f"the hub clock never goes backwards: it is {current.isoformat()}, cannot set {target.isoformat()}"
                )
                raise ValueError(msg)
            return self._move_to(target)

    def tick(self) -> datetime:
        """Count one Hub request: advance by ``seconds_per_request``; returns the new now."""
        with self._lock:
            if self.seconds_per_request:
                return self._move_to(self._now() + timedelta(seconds=self.seconds_per_request))
            return self._now()

    def __repr__(self) -> str:
        return f"HubClock({self.now().isoformat()}, seconds_per_request={self.seconds_per_request}, speed={self.speed})"

"""A simulated clock for tests that run several pipeline nights in a row, a day apart, as cron would."""

from __future__ import annotations

import datetime as dt

from hubgenome.flows import landing

FIRST_NIGHT = dt.datetime(2025, 7, 1, 3, 0, tzinfo=dt.UTC)


class NightClock:
    """``landing.utcnow`` on night ``n``: 03:00 UTC of day ``n`` plus the real time elapsed since then."""

    def __init__(self) -> None:
        self.night = 0
        self._real = landing.utcnow
        self._night_started = self._real()

    def next_night(self) -> None:
        self.night += 1
        self._night_started = self._real()

    def __call__(self) -> dt.datetime:
        return FIRST_NIGHT + dt.timedelta(days=self.night) + (self._real() - self._night_started)

    @property
    def date(self) -> dt.date:
        return (FIRST_NIGHT + dt.timedelta(days=self.night)).date()

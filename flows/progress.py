"""Progress bars on the terminal for the long steps (listing, cards, a snapshot import).

On stderr, so the summaries printed on stdout stay machine-readable; off when stderr is no
terminal or ``CI`` is set, where a redrawn bar would only fill logs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Progress | None]:
    """A started :class:`rich.progress.Progress` whose tasks show a ``rate`` field, or None when not ``enabled``."""
    if not enabled:
        yield None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    with progress:
        yield progress


def progress_wanted() -> bool:
    """Whether to draw progress bars by default: stderr is a terminal and this is not a CI run."""
    return sys.stderr.isatty() and not os.environ.get("CI")

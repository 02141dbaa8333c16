"""Calibrate the living Hub's default event rates on the real corpora in ``shared/hubdata``.

``python -m hubgenome.local_hub.server._calibrate [HUBDATA]`` prints the measured figures and the rate spec
they give; ``_events.DEFAULT_RATES`` holds the result (rounded), ``docs/living_hub.md`` the
method. A snapshot only shows the public models alive on its day, so only three rates can be
measured from one:

``create``
    Models created per day in the ``window`` complete days before ``hub-2024-07``'s snapshot
    (its newest createdAt), over the corpus size. Survivors only: models created then deleted or
    made private before the snapshot are not counted, so this is a lower bound.
``commit``
    Share of models whose lastModified falls in the ``commit_window`` days before the snapshot
    *and* were created before that window (a creation is not a commit), divided by the window:
    models committed to per day. ``hub-2024-07``'s ``details-*`` (8,650 ids starting with a digit
    or ``q``: an arbitrary slice of the whole Hub) gives the default; ``trees-2025-04`` (popular
    model families, more active) is printed for comparison. A model committed twice in the
    window counts once, so this is a lower bound too.
``counters``
    ``downloads`` is a rolling 30-day count, so a model with ``d`` of them is downloaded at least
    once on a given day with probability about ``1 - exp(-d / 30)``: the mean over
    ``hub-2024-07`` is the share of models whose counters change per day.

Everything else (card edits among commits, deletions, renames, transfers, launches, making
private, gating, disabling) leaves no trace in a snapshot; those rates are chosen in
:data:`CHOSEN` and say so.
"""

from __future__ import annotations

import gzip
import math
import sys
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from hubgenome.local_hub.server._clock import parse_moment

#: Rates a snapshot cannot measure, with the reason for each value (fractions of the corpus per day).
CHOSEN: dict[str, tuple[float, str]] = {
    "card_edit": (0.2, "share of commits that touch README.md (multiplied by the commit rate)"),
    "delete": (0.0003, "a model in ~9 years; deletions leave no trace in a snapshot"),
    "rename": (0.0001, "renames are rare; the old id answers 307"),
    "transfer": (0.00005, "moves to another namespace, rarer than renames"),
    "launch": (0.0002, "private repos made public; about a tenth of the creation rate"),
    "make_private": (0.00005, "public repos hidden again"),
    "gate": (0.00005, "gating flips (trees-2025-04 has 2.9% gated models, hub-2024-07 details none)"),
    "disable": (0.00002, "disabled by the Hub (abuse, legal)"),
    "enable": (0.00001, "re-enabled"),
}


def _rows(folder: Path, kind: str) -> list[dict]:
    rows = []
    for path in sorted(folder.glob(f"{kind}-*.jsonl.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            if line.strip():
                rows.append(orjson.loads(line))
    return rows


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_moment(value)
    except ValueError:
        return None


def creation_rate(models: list[dict], window: int) -> tuple[float, dict]:
    """Models created per day over the corpus size, in the ``window`` full days before the snapshot."""
    created = [moment for moment in (_moment(m.get("createdAt")) for m in models) if moment is not None]
    snapshot = max(created)
    day_end = snapshot.replace(hour=0, minute=0, second=0, microsecond=0)  # the snapshot day is partial
    day_start = day_end - timedelta(days=window)
    count = sum(day_start <= moment < day_end for moment in created)
    per_day = count / window
    return per_day / len(models), {"snapshot": snapshot.isoformat(), "created_in_window": count, "per_day": per_day}


def commit_rate(models: list[dict], window: int) -> tuple[float, dict]:
    """Share of (older) models last modified in the ``window`` days before the newest one, per day."""
    modified = [(_moment(m.get("lastModified")), _moment(m.get("createdAt"))) for m in models]
    modified = [(last, created) for last, created in modified if last is not None]
    snapshot = max(last for last, _ in modified)
    start = snapshot - timedelta(days=window)
    older = [(last, created) for last, created in modified if created is None or created < start]
    committed = sum(last >= start for last, _ in older)
    share = committed / len(older)
    return share / window, {"snapshot": snapshot.isoformat(), "models": len(older), "committed_in_window": committed}


def counter_rate(models: list[dict]) -> tuple[float, dict]:
    """Expected share of models downloaded at least once a day, from their 30-day download counts."""
    counts = [m.get("downloads") or 0 for m in models]
    share = sum(1 - math.exp(-count / 30) for count in counts) / len(counts)
    return share, {"models": len(counts), "with_downloads": sum(count > 0 for count in counts)}


def calibrate(hubdata: str | Path, window: int = 28, commit_window: int = 30) -> dict:
    """Measure the rates on ``hubdata`` (the ``shared/hubdata`` folder); returns figures and rates."""
    folder = Path(hubdata)
    hub = _rows(folder / "hub-2024-07", "models")
    details = _rows(folder / "hub-2024-07", "details")
    trees = _rows(folder / "trees-2025-04", "models")
    create, create_figures = creation_rate(hub, window)
    commit, commit_figures = commit_rate(details, commit_window)
    commit_trees, trees_figures = commit_rate(trees, commit_window)
    counters, counter_figures = counter_rate(hub)
    rates = {"create": create, "commit": commit, "counters": counters}
    for kind, (value, _) in CHOSEN.items():
        rates[kind] = value * commit if kind == "card_edit" else value
    return {
        "rates": rates,
        "figures": {
            "create (hub-2024-07 models)": create_figures,
            "commit (hub-2024-07 details)": commit_figures,
            "commit (trees-2025-04, comparison)": {**trees_figures, "rate": commit_trees},
            "counters (hub-2024-07 models)": counter_figures,
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Print the calibration of ``argv[0]`` (default ``../shared/hubdata``)."""
    args = sys.argv[1:] if argv is None else argv
    hubdata = Path(args[0]) if args else Path(__file__).resolve().parents[3] / "shared" / "hubdata"
    result = calibrate(hubdata)
    for name, figures in result["figures"].items():
        print(f"{name}: {figures}")
    for kind, rate in result["rates"].items():
        source = f"chosen: {CHOSEN[kind][1]}" if kind in CHOSEN else "measured"
        print(f"{kind:>13} = {rate:.6f}/day  ({source})")
    print("spec:", ",".join(f"{kind}={rate:.2g}" for kind, rate in result["rates"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

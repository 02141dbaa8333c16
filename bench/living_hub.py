"""Benchmark of the living Hub's overlay on the whole-Hub corpus (hub-2024-07, 760,000 models).

Loads the corpus, draws seeded events until the delta holds ``--delta`` models (commits,
counters, creations, deletions, renames, private creations), applies them, then times listing
pages in-process (``LivingCorpus.page`` + rendering, what a request costs the server besides
HTTP): the first page and deep pages reached by cursor, per sort key, unfiltered and with a tag
filter, before and after the events, and while 20 more events land between two pages. Also
times event application and the generator.

Usage: ``python bench/living_hub.py [--corpus PATH] [--delta 30000] [--pages 50]``
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from hubgenome.local_hub.server import DEFAULT_LISTING_FIELDS, HubEvent, LivingCorpus, generate_events, load_corpus  # noqa: E402
from hubgenome.local_hub.server._corpus import ListingQuery  # noqa: E402
from hubgenome.local_hub.server._living import moment_from_ms  # noqa: E402

DEFAULT_CORPUS = Path(os.environ.get("HUBGENOME_HUBDATA", REPO_ROOT.parent / "shared" / "hubdata")) / "hub-2024-07"
RATES = "create=0.0025,commit=0.01,card_edit=0.001,delete=0.0003,rename=0.0001,launch=0.0002,counters=0.03"


def _time_walk(
    living: LivingCorpus, query: ListingQuery, pages: int, limit: int = 1000, events: Iterator[HubEvent] | None = None
) -> list[float]:
    """Seconds per page for the first ``pages`` pages of a walk (page + render; events applied in between)."""
    timings = []
    cursor = None
    for _ in range(pages):
        for event in itertools.islice(events or (), 20):
            living.apply(event)
        started = time.perf_counter()
        page = living.page(query, limit, cursor)
        page.render(DEFAULT_LISTING_FIELDS)
        timings.append(time.perf_counter() - started)
        cursor = page.next_cursor
        if cursor is None:
            break
    return timings


def _report(label: str, living: LivingCorpus, pages: int, events: Iterator[HubEvent] | None = None) -> None:
    for query in (
        ListingQuery(sort="createdAt"),
        ListingQuery(sort="lastModified"),
        ListingQuery(sort="downloads"),
        ListingQuery(sort="_id"),
        ListingQuery(sort="downloads", filters=("transformers",)),
    ):
        _time_walk(living, query, 1)  # warm the per-query caches
        timings = _time_walk(living, query, pages, events=events)
        shown = f"sort={query.sort}" + (f" filter={','.join(query.filters)}" if query.filters else "")
        print(
            f"{label:>14} {shown:<36} pages {len(timings):>3}  "
            f"median {statistics.median(timings) * 1000:6.1f} ms  max {max(timings) * 1000:6.1f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--delta", type=int, default=30_000, help="models in the delta after the events")
    parser.add_argument("--pages", type=int, default=50, help="pages timed per walk")
    args = parser.parse_args()
    started = time.perf_counter()
    base = load_corpus(args.corpus)
    print(f"loaded {len(base):,} models in {time.perf_counter() - started:.1f} s")
    living = LivingCorpus(base)
    _report("no events", living, args.pages)

    start = moment_from_ms(living.newest_moment() or 0) + timedelta(days=1)
    day = 0
    applied = generated = 0
    generation_seconds = apply_seconds = 0.0
    while len(living.delta) < args.delta:
        began = time.perf_counter()
        events = generate_events(living, start + timedelta(days=day), start + timedelta(days=day + 1), RATES, day)
        generation_seconds += time.perf_counter() - began
        generated += len(events)
        began = time.perf_counter()
        applied += sum(living.apply(event) for event in events)
        apply_seconds += time.perf_counter() - began
        day += 1
    print(
        f"{day} simulated days: {generated:,} events drawn in {generation_seconds:.1f} s, {applied:,} applied in "
        f"{apply_seconds:.1f} s ({apply_seconds / max(applied, 1) * 1e6:.0f} µs each); "
        f"delta {len(living.delta):,} models, {living.masked:,} base positions masked"
    )
    _report("delta", living, args.pages)
    more = generate_events(living, start + timedelta(days=day), start + timedelta(days=day + 1), RATES, day)
    _report("20 events/page", living, args.pages, iter(more))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Crawl benchmark: the whole hub-2024-07 listing and the cards of cards-2022-02, from the local server.

The server runs in its own process (as the real Hub would), the crawler in this one, through the
same functions the ``crawl-hub`` flow calls (Prefect's own start-up is left out of the figures).
Prints models/s, cards/s and the peak RSS of both processes.

    .venv/bin/python bench/crawl.py [--hubdata ../shared/hubdata] [--listing-only | --cards-only]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hubgenome.flows import landing  # noqa: E402
from hubgenome.flows.crawl import crawl_listing, fetch_cards, open_crawl  # noqa: E402
from hubgenome.flows.hub_client import HubClient  # noqa: E402


def _peak_rss_mib_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def served(corpus: Path) -> Iterator[tuple[str, subprocess.Popen, float]]:
    """Start ``python -m hubgenome.local_hub.server`` on a free port; yields (url, process, load seconds)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "hubgenome.local_hub.server", "--corpus", str(corpus), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        url = ""
        for line in process.stdout:
            if line.startswith("http://") or "http://" in line:
                url = line[line.index("http://") :].split()[0].rstrip("/")
                break
        if not url:
            msg = "the local Hub server exited before printing its URL"
            raise RuntimeError(msg)
        yield url, process, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def bench_listing(corpus: Path, work: Path) -> None:
    with served(corpus) as (url, server, load_seconds):
        print(f"server: loaded {corpus.name} in {load_seconds:.1f} s")
        client = HubClient(url)
        con = landing.connect(work / "raw.duckdb")
        run, _ = open_crawl(con, client, mode="full")
        started = time.perf_counter()
        result = crawl_listing(con, client, run)
        landing.finish_run(con, run.crawl_id)
        seconds = time.perf_counter() - started
        server_peak = _peak_rss_mib_of(server.pid)
        distinct = con.execute(
            "select count(distinct model_id) from raw_models where crawl_id = ?", [run.crawl_id]
        ).fetchone()[0]
        con.close()
    print(
        f"listing: {result.models:,} models ({distinct:,} distinct) on {result.pages} pages in {seconds:.1f} s "
        f"= {result.models / seconds:,.0f} models/s; server peak RSS {server_peak:,.0f} MiB"
    )


def bench_cards(corpus: Path, work: Path, concurrency: int) -> None:
    with served(corpus) as (url, server, load_seconds):
        print(f"server: loaded {corpus.name} in {load_seconds:.1f} s")
        client = HubClient(url)
        con = landing.connect(work / "raw.duckdb")
        run, _ = open_crawl(con, client, mode="full")
        crawl_listing(con, client, run)
        started = time.perf_counter()
        outcomes = fetch_cards(con, client, run.crawl_id, concurrency=concurrency)
        seconds = time.perf_counter() - started
        landing.finish_run(con, run.crawl_id)
        server_peak = _peak_rss_mib_of(server.pid)
        con.close()
    total = sum(outcomes.values())
    print(
        f"cards: {total:,} fetched {dict(outcomes)} in {seconds:.1f} s = {total / seconds:,.0f} cards/s "
        f"(concurrency {concurrency}); server peak RSS {server_peak:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hubdata", type=Path, default=REPO.parent / "shared" / "hubdata")
    parser.add_argument("--listing-only", action="store_true")
    parser.add_argument("--cards-only", action="store_true")
    parser.add_argument("--card-concurrency", type=int, default=8)
    args = parser.parse_args()
    if not (args.hubdata / "hub-2024-07").is_dir():
        sys.exit(f"hub-2024-07 not found under {args.hubdata}; pass --hubdata")
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as scratch:
        if not args.cards_only:
            bench_listing(args.hubdata / "hub-2024-07", Path(scratch) / "listing")
        if not args.listing_only:
            bench_cards(args.hubdata / "cards-2022-02", Path(scratch) / "cards", args.card_concurrency)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"crawler peak RSS: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()

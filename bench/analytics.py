"""Benchmark the analytics run (issue 4) on hub-2024-07 and on the 3.04M-model tiled corpus.

For each corpus this lands it with ``hubgenome.flows.corpus_import.import_corpus`` and builds the warehouse
with ``hubgenome.flows.build.build_warehouse`` (no analytics hook: the build is timed by ``bench/build.py``),
then runs :func:`hubgenome.analytics.run.run_analytics` on the built file in a fresh child process and prints
its wall time, its per-step times and its peak RSS. Goal: ≤ 3 min and ≤ 8 GB at 3.04M models.
First it times the trait-ordering ILP alone at the paper's size (20 traits, a planted order): goal < 5 s.
Everything is written under ``<data dir>/bench/``; an existing landing or warehouse is reused.

    .venv/bin/python bench/analytics.py [--skip-tiled] [--skip-hub] [--skip-ordering] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from hubgenome.analytics.drift import planted_ordering, solve_linear_ordering
from hubgenome.core.paths import resolve_data_dir

REPO = Path(__file__).resolve().parents[1]
HUB = REPO.parent / "shared" / "hubdata" / "hub-2024-07"

_CHILD = """
import json, sys, time
import duckdb
from hubgenome.analytics.run import run_analytics
started = time.perf_counter()
with duckdb.connect(sys.argv[1]) as con:
    result = run_analytics(con)
print(json.dumps({"wall": time.perf_counter() - started, "steps": result.seconds, "tables": len(result.tables)}))
"""


def prepare(corpus: Path, work: Path, *, rebuild: bool) -> Path:
    """Land ``corpus`` and build its warehouse under ``work`` (reused unless ``rebuild``)."""
    from hubgenome.flows.build import build_warehouse
    from hubgenome.flows.corpus_import import import_corpus

    work.mkdir(parents=True, exist_ok=True)
    raw_db, warehouse = work / "raw.duckdb", work / "warehouse.duckdb"
    if rebuild:
        raw_db.unlink(missing_ok=True)
        warehouse.unlink(missing_ok=True)
    if not raw_db.exists():
        started = time.perf_counter()
        import_corpus(corpus, raw_db)
        print(f"  landed {corpus.name} in {time.perf_counter() - started:.1f} s")
    if not warehouse.exists():
        started = time.perf_counter()
        build_warehouse(work, raw_db=raw_db, warehouse=warehouse)
        print(f"  built the warehouse in {time.perf_counter() - started:.1f} s")
    return warehouse


def run_analytics_child(warehouse: Path) -> tuple[dict, float, float]:
    """(child's JSON summary, wall seconds, peak RSS GiB) of one analytics run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(warehouse)], check=True, capture_output=True, text=True, cwd=REPO
    )
    wall = time.perf_counter() - started
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024 / 1024
    return json.loads(done.stdout.strip().splitlines()[-1]), wall, peak


def bench_ordering(n: int = 20, seed: int = 0, goal_seconds: float = 5.0) -> None:
    """Print the time of the trait-ordering ILP on ``n`` traits whose order is planted (the paper orders 20)."""
    weights, planted = planted_ordering(n, seed)
    started = time.perf_counter()
    order, _ = solve_linear_ordering(weights)
    seconds = time.perf_counter() - started
    recovered = "recovered" if order == planted else "NOT recovered"
    verdict = "met" if seconds < goal_seconds else "MISSED"
    print(f"trait ordering ILP, {n} traits: {seconds:.2f} s (goal < {goal_seconds:.0f} s: {verdict})")
    print(f"  planted order {recovered}")


def bench(label: str, corpus: Path, work: Path, *, rebuild: bool) -> None:
    """Print the analytics figures of one corpus."""
    print(f"{label}: {corpus}")
    warehouse = prepare(corpus, work, rebuild=rebuild)
    summary, wall, peak = run_analytics_child(warehouse)
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in summary["steps"].items() if k != "total")
    print(f"  analytics: {summary['wall']:.1f} s in-process ({wall:.1f} s with start-up), peak RSS {peak:.2f} GiB")
    print(f"  steps: {steps}; {summary['tables']} tables")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-hub", action="store_true")
    parser.add_argument("--skip-tiled", action="store_true")
    parser.add_argument("--skip-ordering", action="store_true", help="skip the trait-ordering ILP alone")
    parser.add_argument("--rebuild", action="store_true", help="re-land and rebuild even if a warehouse exists")
    args = parser.parse_args()
    if not args.skip_ordering:
        bench_ordering()
    root = resolve_data_dir() / "bench"
    if not args.skip_hub:
        bench("hub-2024-07 (760k)", HUB, root / "analytics-760k", rebuild=args.rebuild)
    if not args.skip_tiled:
        tiled = root / "hub-2024-07-x4"
        if not list(tiled.glob("models-*.jsonl.gz")):
            from bench.tile_corpus import tile_corpus

            tile_corpus(HUB, tiled, 4)
        bench("tiled x4 (3.04M)", tiled, root / "analytics-3040k", rebuild=args.rebuild)


if __name__ == "__main__":
    main()

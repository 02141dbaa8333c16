"""Benchmark `hubgenome build` (the dbt warehouse build) at whole-Hub scale.

For hub-2024-07 (760,000 models) and the 4x tiled corpus (3,040,000 models, made by
``bench/tile_corpus.py``) this lands the corpus with ``flows.corpus_import.import_corpus``, then
runs ``build_warehouse`` in a child process and prints its wall time and peak RSS, and the time of a
networkx reference that computes the same roots and depths (first listed resolved parent, walk to
the root) in this process, from the same landing. Everything is written under the data dir.

    .venv/bin/python bench/build.py [--skip-tiled]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import networkx as nx

from flows.corpus_import import import_corpus
from flows.settings import resolve_data_dir

REPO = Path(__file__).resolve().parents[1]
HUB = REPO.parent / "shared" / "hubdata" / "hub-2024-07"

_CHILD = """
import sys, time
from pathlib import Path
from flows.build import build_warehouse
started = time.perf_counter()
build_warehouse(Path(sys.argv[1]), raw_db=Path(sys.argv[2]))
print(f"{time.perf_counter() - started:.3f}")
"""


def run_build(data_dir: Path, raw_db: Path) -> tuple[float, float, float]:
    """(wall seconds, in-build seconds, peak RSS GiB) of one build in a fresh child process."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data_dir), str(raw_db)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    wall = time.perf_counter() - started
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024 / 1024
    return wall, float(done.stdout.strip().splitlines()[-1]), peak


def networkx_reference(raw_db: Path) -> tuple[float, int, int]:
    """Roots and depths with networkx from the landing: (seconds, models, max depth)."""
    started = time.perf_counter()
    with duckdb.connect(str(raw_db), read_only=True) as con:
        rows = con.execute(
            "select model_id, cast(json_extract(payload, '$.tags') as varchar[]) from raw_models"
        ).fetchall()
    ids = {model_id for model_id, _ in rows}
    lower = {}
    for model_id in sorted(ids):
        lower.setdefault(model_id.lower(), model_id)
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    for model_id, tags in rows:
        for tag in tags or []:
            if not tag.startswith("base_model:"):
                continue
            reference = tag.rsplit(":", 1)[-1]
            parent = reference if reference in ids else lower.get(reference.lower())
            if parent and parent != model_id:
                graph.add_edge(parent, model_id)
                break  # first listed resolved parent = tree parent
    # break cycles at their smallest member, then walk down from the roots
    for cycle in list(nx.simple_cycles(graph)):
        node = min(cycle)
        for parent in list(graph.predecessors(node)):
            graph.remove_edge(parent, node)
    depth: dict[str, int] = {}
    for root in (n for n in graph.nodes if graph.in_degree(n) == 0):
        for node, level in nx.single_source_shortest_path_length(graph, root).items():
            depth[node] = level
    return time.perf_counter() - started, len(depth), max(depth.values())


def bench(name: str, corpus: Path, work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    raw_db = work / "raw.duckdb"
    raw_db.unlink(missing_ok=True)
    started = time.perf_counter()
    import_corpus(corpus, raw_db)
    print(f"[{name}] import_corpus: {time.perf_counter() - started:.1f} s")
    wall, inside, peak = run_build(work, raw_db)
    print(f"[{name}] hubgenome build: wall {wall:.1f} s (in build_warehouse {inside:.1f} s), peak RSS {peak:.2f} GiB")
    reference, models, max_depth = networkx_reference(raw_db)
    print(f"[{name}] networkx reference: {reference:.1f} s for {models:,} models, max depth {max_depth}")
    print(f"[{name}] networkx / build ratio: {reference / wall:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tiled", action="store_true")
    args = parser.parse_args()
    root = resolve_data_dir() / "bench"
    bench("hub-2024-07", HUB, root / "build-760k")
    if not args.skip_tiled:
        tiled = root / "hub-2024-07-x4"
        if not list(tiled.glob("models-*.jsonl.gz")):
            from bench.tile_corpus import tile_corpus

            tile_corpus(HUB, tiled, 4)
        bench("tiled x4", tiled, root / "build-3040k")


if __name__ == "__main__":
    main()

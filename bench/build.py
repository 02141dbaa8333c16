"""Benchmark `hubgenome build` (the dbt warehouse build) at whole-Hub scale.

For hub-2024-07 (760,000 models) and the 4x tiled corpus (3,040,000 models, made by
``bench/tile_corpus.py``) this lands the corpus with ``hubgenome.flows.corpus_import.import_corpus``, then
runs ``build_warehouse`` in a child process and prints:

- the build's wall time and peak RSS (the child's ``VmHWM``, cross-checked with
  ``getrusage(RUSAGE_CHILDREN)``) and its ten slowest dbt nodes;
- the **lineage path**: the summed dbt node timings of every model from the landing to
  ``int_lineage__tree`` (its ancestors in the manifest, so ephemeral or inlined work is counted
  where it runs), i.e. parse the listing JSON, resolve the edges, pick tree parents, walk roots,
  depths and cycles;
- a networkx reference computing the same roots and depths in this process from the same
  landing (loading the references from the landing included), the ratio between the two, and
  whether the warehouse's roots and depths equal the reference's (mismatches are listed).

Everything (tiled corpus, landings, warehouses) is written under ``--work`` (default
``<data dir>/bench``), never in the repository. Builds run twice by default (``--builds``). The
first one runs dbt with one thread (``HUBGENOME_DBT_THREADS=1``) and pays dbt's full parse: its
per-node timings do not overlap, so they are the ones summed for the lineage path and listed as
the slowest nodes. Later builds run as ``hubgenome build`` does (two dbt threads, reusing
``partial_parse.msgpack`` as a scheduled build does); the wall time and peak memory reported are
the last build's.

    .venv/bin/python bench/build.py [--skip-tiled] [--work DIR] [--builds N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import networkx as nx

from hubgenome.core.paths import resolve_data_dir
from hubgenome.flows.corpus_import import import_corpus

REPO = Path(__file__).resolve().parents[1]
HUB = REPO.parent / "shared" / "hubdata" / "hub-2024-07"
LINEAGE_TARGET = "model.hubgenome.int_lineage__tree"
TYPED_RELATIONS = ("finetune:", "adapter:", "quantized:", "merge:")

_CHILD = """
import json, sys, time
from pathlib import Path
from hubgenome.flows.build import build_warehouse
started = time.perf_counter()
result = build_warehouse(Path(sys.argv[1]), raw_db=Path(sys.argv[2]))
elapsed = time.perf_counter() - started
status = Path("/proc/self/status").read_text()
hwm_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
print("BENCH " + json.dumps({"inside": elapsed, "hwm_kib": hwm_kib, "timings": result.node_timings}))
"""


@dataclass(frozen=True)
class BuildFigures:
    wall: float
    inside: float
    peak_gib: float
    rusage_peak_gib: float
    cpu_seconds: float
    timings: dict[str, float]


def run_build(data_dir: Path, raw_db: Path, *, dbt_threads: int | None = None) -> BuildFigures:
    """One ``build_warehouse`` in a fresh child process: wall time, peak RSS, CPU time and node timings.

    ``dbt_threads`` overrides the profile's dbt thread count (``HUBGENOME_DBT_THREADS``).

    The CPU time (user + system of the child, every DuckDB thread included) is reported beside the
    wall time because it hardly depends on what else the machine runs, where the wall time does.
    """
    env = dict(os.environ)
    if dbt_threads is not None:
        env["HUBGENOME_DBT_THREADS"] = str(dbt_threads)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data_dir), str(raw_db)],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        msg = f"the build in {data_dir} failed (exit {done.returncode}); see {data_dir / 'dbt' / 'logs'}"
        raise SystemExit(msg)
    line = next(line for line in reversed(done.stdout.splitlines()) if line.startswith("BENCH "))
    payload = json.loads(line.removeprefix("BENCH "))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rusage_peak = after.ru_maxrss / 1024 / 1024
    cpu_seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return BuildFigures(
        wall=wall,
        inside=payload["inside"],
        peak_gib=payload["hwm_kib"] / 1024 / 1024,
        rusage_peak_gib=rusage_peak,
        cpu_seconds=cpu_seconds,
        timings=payload["timings"],
    )


def _load_average() -> str:
    """The 1/5/15-minute load averages (the machine is shared: wall times depend on them)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def lineage_path_nodes(manifest_path: Path) -> set[str]:
    """``int_lineage__tree`` and every model it depends on (sources, seeds and tests excluded)."""
    parents = json.loads(manifest_path.read_text())["parent_map"]
    seen: set[str] = set()
    stack = [LINEAGE_TARGET]
    while stack:
        node = stack.pop()
        if node in seen or not node.startswith("model."):
            continue
        seen.add(node)
        stack.extend(parents.get(node, []))
    return seen


def _references(tags: list[str] | None, card_base_models: list[str] | None) -> list[str]:
    """Parent references in listing order: cardData.base_model first, then base_model tags."""
    references = [ref.strip() for ref in card_base_models or [] if isinstance(ref, str)]
    for tag in tags or []:
        if tag.startswith("base_model:"):
            reference = tag[len("base_model:") :]
            if reference.startswith(TYPED_RELATIONS):
                reference = reference.split(":", 1)[1]
            references.append(reference.strip())
    return [ref for ref in references if ref]


def networkx_reference(raw_db: Path) -> tuple[float, dict[str, tuple[str, int]]]:
    """Roots and depths with networkx, from the landing: (seconds, {model: (root, depth)}).

    The same documented rules as the warehouse: the latest sighting of each model; a model hangs
    from its first listed parent that resolves (exactly, else ignoring case to the smallest such
    id) to another crawled model; cycles are broken at their smallest model id.
    """
    started = time.perf_counter()
    with duckdb.connect(str(raw_db), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        rows = con.execute(
            """
            select
                model_id,
                cast(json_extract(payload, '$.tags') as varchar[]),
                case json_type(payload, '$.cardData.base_model')
                    when 'ARRAY' then cast(json_extract(payload, '$.cardData.base_model') as varchar[])
                    when 'VARCHAR' then [json_extract_string(payload, '$.cardData.base_model')]
                end
            from raw_models
            qualify row_number() over (partition by model_id order by rowid desc) = 1
            """
        ).fetchall()
    ids = {model_id for model_id, _, _ in rows}
    lower: dict[str, str] = {}
    for model_id in sorted(ids):
        lower.setdefault(model_id.lower(), model_id)
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    for model_id, tags, card_base_models in rows:
        for reference in _references(tags, card_base_models):
            parent = reference if reference in ids else lower.get(reference.lower())
            if parent and parent != model_id:
                graph.add_edge(parent, model_id)
                break  # first listed resolved parent = tree parent
    for cycle in list(nx.simple_cycles(graph)):
        node = min(cycle)
        for parent in list(graph.predecessors(node)):
            graph.remove_edge(parent, node)
    placed: dict[str, tuple[str, int]] = {}
    for root in (n for n in graph.nodes if graph.in_degree(n) == 0):
        for node, level in nx.single_source_shortest_path_length(graph, root).items():
            placed[node] = (root, level)
    return time.perf_counter() - started, placed


def bench(name: str, corpus: Path, work: Path, builds: int) -> None:
    work.mkdir(parents=True, exist_ok=True)
    raw_db = work / "raw.duckdb"
    raw_db.unlink(missing_ok=True)
    started = time.perf_counter()
    import_corpus(corpus, raw_db)
    print(f"[{name}] import_corpus: {time.perf_counter() - started:.1f} s")
    profiled = None
    for number in range(1, builds + 1):
        threads = 1 if number == 1 else None
        figures = run_build(work, raw_db, dbt_threads=threads)
        profiled = profiled or figures
        print(
            f"[{name}] build {number}/{builds} ({'1 dbt thread' if threads else 'default dbt threads'}): "
            f"wall {figures.wall:.1f} s "
            f"(in build_warehouse {figures.inside:.1f} s), peak RSS {figures.peak_gib:.2f} GiB "
            f"(VmHWM; rusage children max {figures.rusage_peak_gib:.2f} GiB), CPU {figures.cpu_seconds:.1f} s, "
            f"load average {_load_average()}"
        )
    slowest = sorted(profiled.timings.items(), key=lambda item: -item[1])[:10]
    print(
        f"[{name}] slowest nodes (build 1, one dbt thread): "
        + ", ".join(f"{node.split('.')[-1]} {s:.2f}" for node, s in slowest)
    )
    path = lineage_path_nodes(work / "dbt" / "target" / "manifest.json")
    lineage_seconds = sum(profiled.timings.get(node, 0.0) for node in path)
    print(
        f"[{name}] lineage path ({len(path)} models: "
        f"{', '.join(sorted(node.split('.')[-1] for node in path))}): {lineage_seconds:.2f} s"
    )
    reference_seconds, placed = networkx_reference(raw_db)
    print(
        f"[{name}] networkx reference: {reference_seconds:.1f} s for {len(placed):,} models, "
        f"load average {_load_average()}"
    )
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select model_id, root_model_id, depth from dim_models").fetchall()
    built = {model_id: (root, depth) for model_id, root, depth in rows}
    everyone = built.keys() | placed.keys()
    mismatches = [(m, built.get(m), placed.get(m)) for m in everyone if built.get(m) != placed.get(m)]
    print(
        f"[{name}] roots/depths: {len(built):,} in the warehouse, max depth "
        f"{max(d for _, d in built.values())}; mismatches with networkx: {len(mismatches)}"
        + (f", e.g. {sorted(mismatches, key=str)[:5]}" if mismatches else "")
    )
    print(
        f"[{name}] networkx / lineage path: {reference_seconds / lineage_seconds:.2f}x; "
        f"networkx / whole build: {reference_seconds / figures.wall:.2f}x"
    )


def _sibling_module(name: str) -> ModuleType:
    """Import ``bench/<name>.py`` whether this file runs as a script or as ``bench.build``."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tiled", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default <data dir>/bench)")
    parser.add_argument("--builds", type=int, default=2, help="builds per corpus; the last one is reported")
    args = parser.parse_args()
    root = args.work or resolve_data_dir() / "bench"
    bench("hub-2024-07", HUB, root / "build-760k", args.builds)
    if not args.skip_tiled:
        tiled = root / "hub-2024-07-x4"
        if not list(tiled.glob("models-*.jsonl.gz")):
            tile_corpus = _sibling_module("tile_corpus").tile_corpus
            started = time.perf_counter()
            tile_corpus(HUB, tiled, 4)
            print(f"[tiled x4] tile_corpus: {time.perf_counter() - started:.1f} s")
        bench("tiled x4", tiled, root / "build-3040k", args.builds)


if __name__ == "__main__":
    main()

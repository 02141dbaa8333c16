"""Dashboard benchmark: first-render and interaction times of every page, with AppTest.

Goal (issue 5): every page renders in at most 2 s on first visit and answers an interaction in at
most 1 s, on the 3.04M-model tiled warehouse.

* **first render**: Streamlit's caches cleared, then the page's first run (includes opening the
  read-only connection and every query the page makes) — the first visitor after a publish;
* **warm**: the same page run again (cache hits only);
* **interaction**: one widget change and the rerun it triggers (new queries for the new value,
  everything else cached), e.g. a model search, another family, another trait, a SQL query.

Imports are warmed up before timing. Warehouses: built here from ``hub-2024-07`` and from the tiled
corpus (``bench/tile_corpus.py``) under ``<data dir>/bench/app-*``, or given with
``--warehouse NAME=PATH`` (used read-only, through a symlink, never modified).

    .venv/bin/python bench/app.py [--warehouse hub=/path/warehouse.duckdb ...] [--skip-tiled] [--analytics]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import duckdb  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from hubgenome.core.paths import resolve_data_dir  # noqa: E402

PAGES_DIR = REPO / "app" / "pages"
FIRST_RENDER_GOAL = 2.0
INTERACTION_GOAL = 1.0


def _facts(warehouse: Path) -> dict[str, str]:
    """A popular model, a fuzzy misspelling of it, the second-largest family and a conflict child."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{warehouse}' as w (read_only)")
        con.execute("use w")
        model = con.execute("select model_id from dim_models order by downloads desc nulls last limit 1").fetchone()[0]
        family = con.execute("select family_id from dim_families order by family_size desc limit 1 offset 1").fetchone()
        child = con.execute("select child_model_id from fct_license_conflicts limit 1").fetchone()
    finally:
        con.close()
    owner, _, name = model.partition("/")
    return {
        "model": model,
        "misspelt": f"{owner}/{name[:-1]}x" if name else model + "x",
        "family": family[0] if family else "",
        "conflict": (child[0] if child else model).split("/")[-1][:12],
    }


def _interactions(facts: dict[str, str]) -> dict[str, list[tuple[str, Callable[[AppTest], None]]]]:
    def text(key: str, value: str) -> Callable[[AppTest], None]:
        return lambda at: at.text_input(key=key).set_value(value)

    def pick(key: str, value: str) -> Callable[[AppTest], None]:
        return lambda at: at.selectbox(key=key).set_value(value)

    def sql(at: AppTest) -> None:
        at.text_area(key="sql_query").set_value(
            "select relation, count(*) as edges from fct_lineage_edges group by 1 order by 2 desc"
        )
        at.button(key="sql_run").click()

    return {
        "overview": [],
        "model_lookup": [
            ("search a model (prefix)", text("model_query", facts["model"][:-2])),
            ("fuzzy search", text("model_query", facts["misspelt"])),
        ],
        "family_explorer": [
            ("pick another family", pick("family_pick", facts["family"])),
            ("draw 2 generations", lambda at: at.slider(key="tree_depth").set_value(2)),
            ("search families", text("family_search", "llama")),
        ],
        "drift": [("switch trait", lambda at: at.radio(key="drift_trait").set_value("language_codes"))],
        "similarity": [],
        "licences": [("search conflicts", text("conflict_search", facts["conflict"]))],
        "safety": [],
        "sql_console": [("run a query", sql)],
    }


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _check(at: AppTest, label: str) -> None:
    if at.exception:
        msg = f"{label}: {at.exception[0].message}"
        raise RuntimeError(msg)


def bench_warehouse(name: str, warehouse: Path, work: Path) -> list[tuple[str, str, float]]:
    """Time every page on ``warehouse``; returns (page, step, seconds) rows."""
    data_dir = work / f"app-view-{name}"
    data_dir.mkdir(parents=True, exist_ok=True)
    link = data_dir / "warehouse.duckdb"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(warehouse.resolve())
    os.environ["HUBGENOME_DATA_DIR"] = str(data_dir)
    facts = _facts(warehouse)
    rows: list[tuple[str, str, float]] = []
    for page, steps in _interactions(facts).items():
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(PAGES_DIR / f"{page}.py"), default_timeout=600)
        rows.append((page, "first render", _timed(at.run)))
        _check(at, page)
        rows.append((page, "warm rerun", _timed(at.run)))
        for label, change in steps:
            change(at)
            rows.append((page, label, _timed(at.run)))
            _check(at, f"{page} / {label}")
    return rows


def _warm_up_imports(work: Path) -> None:
    empty = work / "app-empty"
    empty.mkdir(parents=True, exist_ok=True)
    os.environ["HUBGENOME_DATA_DIR"] = str(empty)
    for page in ("overview", "family_explorer", "drift", "sql_console"):
        AppTest.from_file(str(PAGES_DIR / f"{page}.py"), default_timeout=120).run()
    import altair  # noqa: F401
    import rapidfuzz  # noqa: F401


def _build(name: str, corpus: Path, work: Path, analytics: bool) -> Path:
    from hubgenome.flows.build import build_and_publish
    from hubgenome.flows.corpus_import import import_corpus
    from hubgenome.flows.options import BuildOptions

    data_dir = work / f"app-{name}"
    warehouse = data_dir / "warehouse.duckdb"
    if warehouse.exists():
        print(f"{name}: reusing {warehouse}")
        return warehouse
    data_dir.mkdir(parents=True, exist_ok=True)
    raw = data_dir / "raw.duckdb"
    raw.unlink(missing_ok=True)
    print(f"{name}: importing {corpus} and building (this takes minutes for the tiled corpus)")
    import_corpus(corpus, raw)
    build_and_publish(data_dir, BuildOptions(analytics=analytics), raw_db=raw, warehouse=warehouse)
    return warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", action="append", default=[], help="NAME=PATH of a built warehouse")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default <data dir>/bench)")
    parser.add_argument("--skip-tiled", action="store_true", help="only hub-2024-07")
    parser.add_argument("--analytics", action="store_true", help="run the analytics step in builds made here")
    args = parser.parse_args()
    work = (args.work or resolve_data_dir() / "bench").resolve()
    work.mkdir(parents=True, exist_ok=True)
    warehouses: dict[str, Path] = {}
    for item in args.warehouse:
        name, _, path = item.partition("=")
        warehouses[name] = Path(path)
    if not warehouses:
        hubdata = Path(os.environ.get("HUBGENOME_HUBDATA", REPO.parent / "shared" / "hubdata"))
        warehouses["hub-2024-07"] = _build("hub-2024-07", hubdata / "hub-2024-07", work, args.analytics)
        if not args.skip_tiled:
            from bench.tile_corpus import tile_corpus

            tiled = work / "tiled-corpus"
            if not any(tiled.glob("models-*.jsonl.gz")):
                tile_corpus(hubdata / "hub-2024-07", tiled, tiles=4)
            warehouses["tiled-3.04M"] = _build("tiled-3.04M", tiled, work, args.analytics)
    _warm_up_imports(work)
    for name, warehouse in warehouses.items():
        rows = bench_warehouse(name, warehouse, work)
        print(f"\n== {name} ({warehouse}, {warehouse.stat().st_size / 1e9:.2f} GB)")
        print(f"{'page':<16} {'step':<26} {'seconds':>8}  goal")
        for page, step, seconds in rows:
            goal = FIRST_RENDER_GOAL if step == "first render" else INTERACTION_GOAL
            verdict = "ok" if seconds <= goal else f"OVER {goal:g} s"
            print(f"{page:<16} {step:<26} {seconds:>8.2f}  {verdict}")
        firsts = [s for _, step, s in rows if step == "first render"]
        others = [s for _, step, s in rows if step not in ("first render", "warm rerun")]
        print(
            f"first render: median {statistics.median(firsts):.2f} s, max {max(firsts):.2f} s; "
            f"interactions: median {statistics.median(others):.2f} s, max {max(others):.2f} s"
        )


if __name__ == "__main__":
    main()

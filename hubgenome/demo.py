"""The offline demo: generate the synthetic Hub, serve it with the local Hub server, crawl it for real,
then build and publish its warehouse with the analytics, and write the report.

Everything it writes lives under ``<data dir>/demo`` (its own corpus, raw landing and warehouse),
so the demo never mixes synthetic models into a real crawl's landing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from hubgenome.analytics.report import write_report
from hubgenome.flows.build import build_flow
from hubgenome.flows.crawl import crawl_flow
from hubgenome.local_hub.demo.synthetic import generate_corpus
from hubgenome.local_hub.server import LocalHub


def run_demo(demo_dir: Path, *, n_models: int = 3000, seed: int = 20250712) -> dict:
    """Regenerate the demo corpus, crawl it through a local Hub server, build its warehouse; return counts."""
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    corpus_dir = demo_dir / "corpus"
    manifest = generate_corpus(corpus_dir, n_models=n_models, seed=seed)
    with LocalHub(corpus_dir) as hub:
        print(f"Serving the SYNTHETIC demo Hub ({manifest.model_count:,} models) at {hub.url}")
        summary = crawl_flow(mode="full", endpoint=hub.url, cards=True, data_dir=str(demo_dir))
    build = build_flow(data_dir=str(demo_dir))
    with duckdb.connect(str(build.warehouse), read_only=True) as con:
        report = write_report(con, demo_dir / "reports")
    with duckdb.connect(str(demo_dir / "raw.duckdb"), read_only=True) as con:
        models, crawls = con.execute(
            "select count(distinct model_id), count(distinct crawl_id) from raw_models"
        ).fetchone()
        cards = dict(con.execute("select status, count(*) from raw_cards group by 1 order by 1").fetchall())
    return {
        "synthetic_models_generated": manifest.model_count,
        "models_landed": models,
        "crawls": crawls,
        **{f"cards_{status}": count for status, count in cards.items()},
        "listing_seconds": round(summary["listing_seconds"], 2),
        "cards_seconds": round(summary["cards_seconds"], 2),
        "raw_landing": str(demo_dir / "raw.duckdb"),
        "warehouse": str(build.warehouse),
        "warehouse_models_built": build.models_built,
        "warehouse_tests_passed": build.tests_passed,
        "build_seconds": round(build.elapsed_seconds, 2),
        "report": str(report.html),
    }

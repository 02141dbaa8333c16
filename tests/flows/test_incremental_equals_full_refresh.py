"""Incremental builds equal a full refresh, table for table and row for row (issue 13's acceptance).

**This test checks the dbt models' incremental logic, not only the build's Python side**: three
pipeline nights (a full crawl, then two nights of an evolving Hub: models added, modified, deleted,
counters changed, each with its counters and id sweeps) build the warehouse incrementally on nights
2 and 3, each from the previous night's warehouse and the landing rows added since. The same landing
rebuilt from scratch (``--full-refresh``) must give equal :func:`mart_row_hashes` for every table of
the marts, staging, intermediate and reference schemas. A difference names the tables whose
incremental models drift from their full-refresh result.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hubgenome.flows import landing
from hubgenome.flows.build import build_warehouse
from hubgenome.flows.options import BuildOptions, PipelineOptions
from hubgenome.flows.pipeline import PipelineSummary, run_pipeline
from hubgenome.local_hub.demo import generate_corpus
from hubgenome.local_hub.demo.synthetic import evolve_corpus
from hubgenome.local_hub.server import LocalHub
from tests.support.crawling import fast_client
from tests.support.night_clock import NightClock
from tests.support.warehouses import differing_tables, mart_row_hashes

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

NIGHT = PipelineOptions(id_sweep="always", build=BuildOptions(analytics=False))


def _night(endpoint: str, data_dir: Path, clock: NightClock) -> PipelineSummary:
    summary = run_pipeline(client=fast_client(endpoint), data_dir=data_dir, options=NIGHT, show_progress=False)
    assert summary.state == "succeeded", summary.error
    clock.next_night()
    return summary


def test_three_nights_built_incrementally_equal_a_full_refresh_of_the_same_landing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    generate_corpus(corpus, n_models=300, seed=7)
    clock = NightClock()
    monkeypatch.setattr(landing, "utcnow", clock)
    summaries = []
    with LocalHub(corpus) as hub:
        summaries.append(_night(hub.url, data_dir, clock))
        for seed in (1, 2):
            evolve_corpus(corpus, seed=seed, added=8, modified=8, deleted=4, counters_changed=30)
            hub.reload()
            summaries.append(_night(hub.url, data_dir, clock))

    assert [summary.build_mode for summary in summaries] == ["full_refresh", "incremental", "incremental"]
    build_details = [next(s.detail for s in summary.stages if s.stage == "build") for summary in summaries]
    assert build_details[0].startswith("Full refresh: no published warehouse yet")
    for detail in build_details[1:]:
        assert detail.startswith("Incremental build (landing rows since build "), detail
        assert "raw_model_counters +" in detail and "raw_id_sweeps +" in detail

    # Night 3's own build read its pipeline_runs row while it was still running: one more (incremental)
    # build, with no new rows in the append-only tables, makes both warehouses read the same landing.
    incremental = build_warehouse(data_dir)
    assert incremental.build_mode == "incremental"
    assert incremental.mode_reason.endswith("raw_model_counters +0, raw_id_sweeps +0, raw_cards +0")

    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    shutil.copyfile(data_dir / "raw.duckdb", fresh_dir / "raw.duckdb")
    fresh = build_warehouse(fresh_dir, full_refresh=True)
    assert fresh.build_mode == "full_refresh"

    got, expected = mart_row_hashes(incremental.warehouse), mart_row_hashes(fresh.warehouse)
    assert "main.dim_models" in expected
    assert differing_tables(got, expected) == {}

"""The acceptance test of the nightly pipeline: three nights against a local Hub whose corpus changes.

Night 1 crawls a generated demo Hub in full; before nights 2 and 3 the corpus is evolved with
:func:`evolve_corpus` (models added, modified, deleted, counters changed). After each night the
published warehouse must show exactly those changes: new versions in ``fct_model_history``, the
deleted models dated in ``dim_model_lifecycle`` (and still in ``dim_models``: history is never
deleted), and one more point in every model's counter time series: ``fct_model_counters`` holds it
as validity intervals, so a model's counters on a night are the interval valid at that night's
counters sweep (or listing crawl, on the first night, whose full crawl listed every counter).

Nights are a day apart on a simulated clock (``hubgenome.flows.landing.utcnow``), as they would be under cron.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from hubgenome.flows import landing
from hubgenome.flows.options import PipelineOptions
from hubgenome.flows.pipeline import PipelineSummary, run_pipeline
from hubgenome.local_hub.demo import generate_corpus
from hubgenome.local_hub.demo.synthetic import EvolutionManifest, evolve_corpus
from hubgenome.local_hub.server import LocalHub
from tests.support.corpus_files import corpus_models
from tests.support.crawling import fast_client
from tests.support.night_clock import NightClock

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _night(hub: LocalHub, data_dir: Path) -> PipelineSummary:
    return run_pipeline(
        client=fast_client(hub.url), data_dir=data_dir, options=PipelineOptions(id_sweep="always"), show_progress=False
    )


#: Each model's counters as one crawl or sweep saw them: the fct_model_counters interval valid at the
#: crawl's start (a model gone before a counters sweep has its last interval ended by that sweep).
COUNTERS_SEEN_BY = """
    select counters.*
    from fct_model_counters as counters
    cross join (select started_at from staging.stg_hub__crawls where crawl_id = ?) as seen
    where counters.valid_from <= seen.started_at
      and (counters.valid_to is null or counters.valid_to > seen.started_at)
"""


def _counters_crawl_id(summary: PipelineSummary) -> str:
    """The night's counters sweep, or its listing crawl when a full crawl made the sweep needless."""
    crawl_id = summary.counters_crawl_id or summary.crawl_id
    assert crawl_id is not None
    return crawl_id


def _day_end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _assert_counters_match_corpus(warehouse: Path, corpus: Path, summary: PipelineSummary, day: dt.date) -> None:
    models = corpus_models(corpus)
    truth = {m["id"]: (m["downloads"], m["downloadsAllTime"], m["likes"]) for m in models}
    rows = _query(
        warehouse,
        f"select model_id, downloads_30d, downloads_all_time, likes from ({COUNTERS_SEEN_BY})",
        [_counters_crawl_id(summary)],
    )
    landed = {model_id: (downloads, all_time, likes) for model_id, downloads, all_time, likes in rows}
    assert len(rows) == len(landed)  # one interval per model at any moment
    assert landed == truth
    # The ecosystem's counters at the night's end sum the same intervals (deleted models left out).
    totals = _query(
        warehouse,
        "select models_with_counters, downloads_30d, downloads_all_time, likes from fct_ecosystem_daily "
        "where crawl_date = ?",
        [day],
    )
    assert totals == [
        (
            len(models),
            sum(m["downloads"] for m in models),
            sum(m["downloadsAllTime"] for m in models),
            sum(m["likes"] for m in models),
        )
    ]


def _assert_night(
    warehouse: Path, summary: PipelineSummary, evolution: EvolutionManifest, clock: NightClock, gone_before: set[str]
) -> None:
    assert summary.state == "succeeded", summary.error
    assert summary.crawl_mode == "incremental"
    assert (summary.models_new, summary.models_changed, summary.models_deleted) == (
        len(evolution.added),
        len(evolution.modified),
        len(evolution.deleted),
    )
    # Every model ever seen is still in the warehouse; exactly tonight's deletions are dated tonight.
    ever_seen = {m["id"] for m in corpus_models(evolution.corpus_dir)} | gone_before | set(evolution.deleted)
    assert {row[0] for row in _query(warehouse, "select model_id from dim_models")} == ever_seen
    lifecycle = {
        model_id: (status, disappeared_at)
        for model_id, status, disappeared_at in _query(
            warehouse,
            "select model_id, lifecycle_status, cast(timezone('UTC', disappeared_at) as date) "
            "from dim_model_lifecycle where not is_active",
        )
    }
    assert {m for m, (_, day) in lifecycle.items() if day == clock.date} == set(evolution.deleted)
    assert set(lifecycle) == gone_before | set(evolution.deleted)
    assert {status for status, _ in lifecycle.values()} == {"disappeared"}
    # History: a relicensed model has a new version from tonight; the old one closes tonight.
    versions = _query(
        warehouse,
        """
        select model_id, count(*), max(cast(timezone('UTC', valid_from) as date)),
               count(*) filter (where valid_to is not null)
        from fct_model_history where model_id in (select unnest(?)) group by 1
        """,
        [evolution.license_changed],
    )
    assert len(versions) == len(evolution.license_changed) > 0
    assert all(latest == clock.date and closed >= 1 for _, _, latest, closed in versions)
    # Counters: tonight's point of every listed model is exactly what the Hub says now.
    _assert_counters_match_corpus(warehouse, evolution.corpus_dir, summary, clock.date)
    # A model whose counters changed starts a new interval tonight, right where the previous one
    # ended by the change, with more all-time downloads than that one.
    changed = _query(
        warehouse,
        f"""
        select count(*)
        from ({COUNTERS_SEEN_BY}) as counters
        inner join fct_model_counters as previous
            on counters.model_id = previous.model_id and counters.valid_from = previous.valid_to
        where counters.model_id in (select unnest(?))
          and counters.valid_to is null
          and cast(timezone('UTC', counters.valid_from) as date) = ?
          and previous.ended_by = 'changed'
          and previous.valid_from < counters.valid_from
          and counters.downloads_all_time_delta > 0
          and counters.downloads_all_time - previous.downloads_all_time = counters.downloads_all_time_delta
        """,
        [
            _counters_crawl_id(summary),
            evolution.counters_changed,
            clock.date,
        ],
    )[0][0]
    assert changed == len(evolution.counters_changed)


@pytest.mark.slow
def test_three_nights_show_exactly_the_changes_with_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    manifest = generate_corpus(corpus, n_models=600, seed=20250712)
    clock = NightClock()
    monkeypatch.setattr(landing, "utcnow", clock)
    with LocalHub(corpus) as hub:
        first = _night(hub, data_dir)
        warehouse = data_dir / "warehouse.duckdb"
        assert first.state == "succeeded"
        assert first.crawl_mode == "full"
        assert "falling back to a full crawl" in first.stages[0].detail
        assert (first.models_new, first.models_changed, first.models_deleted) == (manifest.model_count, 0, 0)
        assert first.dbt_tests_failed == 0 and first.dbt_tests_passed > 100
        assert _query(warehouse, "select count(*) from dim_model_lifecycle where is_active")[0][0] == (
            manifest.model_count
        )
        _assert_counters_match_corpus(warehouse, corpus, first, clock.date)
        nights, active = [clock.date], [manifest.model_count]

        gone: set[str] = set()
        for seed in (1, 2):
            evolution = evolve_corpus(corpus, seed=seed, added=12, modified=10, deleted=5, counters_changed=40)
            hub.reload()
            clock.next_night()
            summary = _night(hub, data_dir)
            _assert_night(warehouse, summary, evolution, clock, gone)
            gone |= set(evolution.deleted)
            nights.append(clock.date)
            active.append(active[-1] + len(evolution.added) - len(evolution.deleted))

    # Three points of the counter series for a model that lived through all three nights: an interval
    # valid at each night's end (the series of fct_family_daily and fct_ecosystem_daily; a deleted
    # model's last interval ended when a counters sweep no longer listed it), the last one current.
    series = _query(
        warehouse,
        """
        select counters.model_id, count(*)
        from fct_model_counters as counters
        cross join (select unnest(?) as day_end) as nights
        where counters.valid_from < nights.day_end
          and (counters.valid_to is null or counters.valid_to >= nights.day_end)
        group by 1
        having count(*) = 3 and bool_or(counters.valid_to is null)
        """,
        [[_day_end(night) for night in nights]],
    )
    assert len(series) == manifest.model_count - len(gone)
    assert _query(warehouse, "select crawl_date, models_with_counters from fct_ecosystem_daily order by 1") == list(
        zip(nights, active, strict=True)
    )
    family_days = _query(warehouse, "select count(distinct counter_date) from fct_family_daily")[0][0]
    assert family_days == 3
    runs = _query(
        warehouse,
        "select run_state, crawl_mode, models_deleted, build_state from fct_pipeline_runs order by started_at",
    )
    # The third run's build sees its own row before the build; the first two are final.
    assert runs == [("succeeded", "full", 0, "succeeded"), ("succeeded", "incremental", 5, "succeeded"),
                    ("running", "incremental", 5, None)]  # fmt: skip

"""The dashboard's nightly history: pipeline runs and counters on the Overview, a model's daily counters and
lifecycle on Model lookup, a family's daily series on Family explorer.

Against ``nights_app`` (four pipeline nights, the third failed) the values shown must be what the
pipeline reported and what the local Hub listed each night; against a warehouse without the history
marts, and the demo warehouse without any pipeline run, the pages say so instead of failing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support.pages import metrics, run_page, texts

HISTORY_TABLES = ("fct_pipeline_runs", "fct_model_daily_counters", "fct_family_daily", "dim_model_lifecycle")


def _table_with(at, column: str) -> pd.DataFrame:
    """The first dataframe shown that has ``column``."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    shown = [list(element.value.columns) for element in at.dataframe]
    raise AssertionError(f"no table with column {column!r} on the page; tables shown: {shown}")


def _day(value) -> dt.date:
    return pd.Timestamp(value).date()


def _value(value):
    return None if value is None or (not isinstance(value, str | list) and pd.isna(value)) else value


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _good_nights(nights) -> list[int]:
    return [index for index, seen in enumerate(nights.counters) if seen]


def test_overview_lists_every_pipeline_run_newest_first(nights_app, monkeypatch):
    at = run_page("overview", nights_app.data_dir, monkeypatch)
    runs = _table_with(at, "pipeline_run_id")
    newest_first = nights_app.summaries[::-1]
    assert list(runs["pipeline_run_id"]) == [summary.pipeline_run_id for summary in newest_first]
    # The last run's own build shows it as running; the earlier runs show their final state.
    assert list(runs["run_state"]) == ["running"] + [summary.state for summary in newest_first[1:]]
    assert [_value(stage) for stage in runs["failed_stage"]] == [summary.failed_stage for summary in newest_first]
    for column in ("models_new", "models_changed", "models_deleted", "models_listed"):
        assert list(runs[column]) == [getattr(summary, column) for summary in newest_first], column
    assert list(runs["cards_ok"]) == [summary.cards.get("ok", 0) for summary in newest_first]
    built = runs[runs["run_state"] == "succeeded"]
    assert (built["dbt_tests_failed"] == 0).all() and (built["dbt_tests_passed"] > 0).all()
    assert newest_first[-1].models_new == len(nights_app.counters[0])  # the first night found every model

    shown = metrics(at)
    assert shown["Last run"] == "running"
    assert shown["Runs recorded"] == str(len(nights_app.summaries))
    assert shown["Failed or abandoned runs"] == "1"
    failed = next(summary for summary in nights_app.summaries if summary.state == "failed")
    assert f"Run `{failed.pipeline_run_id}` failed at stage `crawl`" in texts(at)
    # The audit ran after every built night; the newest audited run's figures are shown.
    audited = [summary for summary in newest_first[1:] if summary.audit_missing is not None]
    assert list(runs["audit_missing"].dropna()) == [summary.audit_missing for summary in audited]
    assert shown["Public models missing (last audit)"] == "0"
    assert shown["Cards still owed"] == str(audited[0].cards_backlog_remaining)


def _rows_by_day(table: pd.DataFrame, columns: list[str]) -> dict[dt.date, tuple]:
    return {
        _day(day): tuple(values)
        for day, *values in zip(table["counter_date"], *(table[column] for column in columns), strict=True)
    }


def _check_days(shown: dict[dt.date, tuple], nights, expected: dict[int, tuple]) -> None:
    """One point per good night with the expected values; at most one more, dated the failed night.

    The night after the Hub was down resumes the failed crawl, and the counters mart dates a crawl's
    observations by the crawl's start, so that crawl's few listings land on the failed night's day.
    """
    assert {nights.dates[n]: values for n, values in expected.items()} == {
        day: values for day, values in shown.items() if day in {nights.dates[n] for n in expected}
    }
    failed_days = {nights.dates[n] for n, seen in enumerate(nights.counters) if not seen}
    assert set(shown) - {nights.dates[n] for n in expected} <= failed_days


def test_overview_counters_per_day_are_what_the_hub_listed(nights_app, monkeypatch):
    at = run_page("overview", nights_app.data_dir, monkeypatch)
    series = _table_with(at, "models_observed")
    columns = ["models_observed", "downloads_30d", "downloads_all_time", "likes"]
    expected = {
        n: (
            len(nights_app.counters[n]),
            *(sum(c[k] for c in nights_app.counters[n].values()) for k in range(3)),
        )
        for n in _good_nights(nights_app)
    }
    _check_days(_rows_by_day(series, columns), nights_app, expected)
    assert f"{series.shape[0]} day(s) with observations" in texts(at)


def test_model_lookup_plots_a_models_counters_per_day_and_its_lifecycle(nights_app, monkeypatch):
    good = _good_nights(nights_app)
    lasting = set.intersection(*(set(nights_app.counters[n]) for n in good))
    model_id = sorted(set(nights_app.evolutions[0].counters_changed) & lasting)[0]
    at = run_page("model_lookup", nights_app.data_dir, monkeypatch, query_params={"model": model_id})
    daily = _table_with(at, "downloads_all_time_delta")
    shown_counters = _rows_by_day(daily, ["downloads_30d", "downloads_all_time", "likes"])
    _check_days(shown_counters, nights_app, {n: nights_app.counters[n][model_id] for n in good})
    first, second = (shown_counters[nights_app.dates[n]] for n in good[:2])
    assert second[1] > first[1]  # its counters changed before night 2

    shown = metrics(at)
    assert shown["Lifecycle"] == "active"
    assert shown["First seen"] == f"{nights_app.dates[0]:%Y-%m-%d}"
    assert shown["Last seen"] == f"{nights_app.dates[good[-1]]:%Y-%m-%d}"
    assert shown["Gone since"] == "–"
    assert not any("Gone from the Hub" in warning.value for warning in at.warning)


def test_model_lookup_dates_a_deleted_model_and_keeps_its_history(nights_app, monkeypatch):
    model_id = sorted(nights_app.evolutions[0].deleted)[0]  # deleted before the second night
    at = run_page("model_lookup", nights_app.data_dir, monkeypatch, query_params={"model": model_id})
    gone = f"{nights_app.dates[1]:%Y-%m-%d}"
    assert f"Gone from the Hub since {gone}" in at.warning[0].value
    shown = metrics(at)
    assert (shown["Lifecycle"], shown["Gone since"]) == ("disappeared", gone)
    assert shown["Last seen"] == f"{nights_app.dates[0]:%Y-%m-%d}"
    daily = _table_with(at, "downloads_all_time_delta")
    assert [_day(day) for day in daily["counter_date"]] == [nights_app.dates[0]]
    assert tuple(daily[["downloads_30d", "downloads_all_time", "likes"]].iloc[0]) == nights_app.counters[0][model_id]


@pytest.mark.parametrize(
    ("family", "source"),
    [
        ("family_size desc", "`fct_family_daily`"),
        # Single-model families are not copied into fct_family_daily: the page reads the model's counters.
        ("family_size = 1 desc, total_downloads desc", "its model's `fct_model_daily_counters`"),
    ],
    ids=["largest", "single-model"],
)
def test_family_explorer_shows_the_family_series_per_day(nights_app, monkeypatch, family, source):
    [(family_id,)] = _query(
        nights_app.warehouse, f"select family_id from dim_families order by {family}, family_id limit 1"
    )
    members = {
        row[0]
        for row in _query(nights_app.warehouse, "select model_id from dim_models where family_id = ?", [family_id])
    }
    at = run_page("family_explorer", nights_app.data_dir, monkeypatch, query_params={"family": family_id})
    daily = _table_with(at, "models_observed")
    observed = {n: {m: c for m, c in nights_app.counters[n].items() if m in members} for n in _good_nights(nights_app)}
    expected = {
        n: (len(seen), sum(c[0] for c in seen.values()), sum(c[2] for c in seen.values()))
        for n, seen in observed.items()
    }
    _check_days(_rows_by_day(daily, ["models_observed", "downloads_30d", "likes"]), nights_app, expected)
    categories = [column for column in daily.columns if column.endswith("_models")]
    assert len(categories) == 6
    assert list(daily[categories].sum(axis=1)) == list(daily["models_observed"])  # every observed member counted once
    assert f"{daily.shape[0]} day(s) observed, from {source}" in texts(at)


def test_demo_warehouse_without_pipeline_runs_says_how_to_get_them(demo_app, monkeypatch):
    at = run_page("overview", demo_app.data_dir, monkeypatch)
    assert any("No nightly pipeline run is recorded" in info.value for info in at.info)
    series = _table_with(at, "models_observed")  # the demo crawl itself observed every model's counters once
    assert list(series["models_observed"]) == [demo_app.manifest.model_count]


@pytest.fixture
def warehouse_without_history(demo_app, tmp_path: Path) -> Path:
    """The demo warehouse as an older build made it: none of the history marts."""
    shutil.copy(demo_app.warehouse, tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        for table in HISTORY_TABLES:
            con.execute(f"drop table {table}")
    return tmp_path


def test_pages_without_the_history_marts_say_how_to_build_them(warehouse_without_history, demo_app, monkeypatch):
    overview = run_page("overview", warehouse_without_history, monkeypatch)
    notes = [info.value for info in overview.info]
    assert any("no `fct_pipeline_runs` table" in note and "hubgenome build" in note for note in notes)
    assert any("no `fct_model_daily_counters` table" in note for note in notes)
    assert overview.metric  # the rest of the page still renders

    [(model_id,)] = _query(demo_app.warehouse, "select model_id from dim_models order by model_id limit 1")
    lookup = run_page("model_lookup", warehouse_without_history, monkeypatch, query_params={"model": model_id})
    notes = [info.value for info in lookup.info]
    assert any("no `fct_model_daily_counters` table" in note for note in notes)
    assert any("No lifecycle for this model" in note for note in notes)
    assert "Family root" in metrics(lookup)

    explorer = run_page("family_explorer", warehouse_without_history, monkeypatch)
    assert any("no `fct_family_daily` table" in info.value for info in explorer.info)

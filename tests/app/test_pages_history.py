"""The dashboard's nightly history: pipeline runs and counters per day on the Overview, a model's counter
intervals and lifecycle on Model lookup, a family's daily series on Family explorer.

Against ``nights_app`` (four pipeline nights, the third failed) the values shown must be what the
pipeline reported and what the local Hub listed each night; against a warehouse without the history
marts, one with an older hubgenome's day-by-day counters, and the demo warehouse without any
pipeline run, the pages say so instead of failing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support.pages import metrics, run_page, texts

HISTORY_TABLES = ("fct_pipeline_runs", "fct_model_counters", "dim_model_lifecycle")
#: What fct_ecosystem_daily gained with the counter intervals (issue 13).
ECOSYSTEM_COUNTER_COLUMNS = ("models_with_counters", "downloads_30d", "downloads_all_time", "likes")
COUNTERS = ["downloads_30d", "downloads_all_time", "likes"]


def _table_with(at, column: str) -> pd.DataFrame:
    """The first dataframe shown that has ``column``."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    shown = [list(element.value.columns) for element in at.dataframe]
    raise AssertionError(f"no table with column {column!r} on the page; tables shown: {shown}")


def _counters_per_day(at) -> pd.DataFrame:
    """The Overview's downloads and likes per day (the counts per crawl day above it have the same columns)."""
    return next(
        element.value
        for element in at.dataframe
        if "models_with_counters" in element.value.columns and "crawls_started" not in element.value.columns
    )


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


def _rows_by_day(table: pd.DataFrame, columns: list[str], day: str = "counter_date") -> dict[dt.date, tuple]:
    return {
        _day(date): tuple(values)
        for date, *values in zip(table[day], *(table[column] for column in columns), strict=True)
    }


def _as_of_day_ends(intervals: pd.DataFrame, days: list[dt.date]) -> dict[dt.date, tuple]:
    """The counters of the interval valid at the end of each day (UTC), days before the first left out."""
    shown = {}
    for day in days:
        day_end = pd.Timestamp(day + dt.timedelta(days=1), tz="UTC")
        valid = intervals[
            (intervals["valid_from"] < day_end) & (intervals["valid_to"].isna() | (intervals["valid_to"] >= day_end))
        ]
        assert len(valid) <= 1, f"intervals overlap at the end of {day}"
        if len(valid):
            shown[day] = tuple(valid[COUNTERS].iloc[0])
    return shown


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
    series = _counters_per_day(at)
    columns = ["models_with_counters", *COUNTERS]
    expected = {
        n: (
            len(nights_app.counters[n]),
            *(sum(c[k] for c in nights_app.counters[n].values()) for k in range(3)),
        )
        for n in _good_nights(nights_app)
    }
    _check_days(_rows_by_day(series, columns, day="crawl_date"), nights_app, expected)
    assert f"{series.shape[0]} crawl day(s) with counters, from `fct_ecosystem_daily`" in texts(at)


def _intervals_shown(at) -> pd.DataFrame:
    intervals = _table_with(at, "downloads_all_time_delta")
    assert list(intervals["valid_from"]) == sorted(intervals["valid_from"])
    # consecutive intervals: each ends where the next starts, because the counters changed; the last
    # is open, or ended when a counters sweep no longer listed the model
    assert list(intervals["valid_to"].iloc[:-1]) == list(intervals["valid_from"].iloc[1:])
    assert list(intervals["ended_by"].iloc[:-1]) == ["changed"] * (len(intervals) - 1)
    last = intervals.iloc[-1]
    assert (pd.isna(last["valid_to"]) and pd.isna(last["ended_by"])) or (
        last["ended_by"] == "not_listed" and last["valid_to"] > last["valid_from"]
    )
    # a step series: a new interval only where the counters changed
    values = list(intervals[[*COUNTERS, "trending_score"]].itertuples(index=False))
    assert all(before != after for before, after in itertools.pairwise(values))
    assert f"{len(intervals)} interval(s) of unchanged counters, from `fct_model_counters`" in texts(at)
    return intervals


def test_model_lookup_shows_a_models_counter_intervals_and_its_lifecycle(nights_app, monkeypatch):
    good = _good_nights(nights_app)
    lasting = set.intersection(*(set(nights_app.counters[n]) for n in good))
    model_id = sorted(set(nights_app.evolutions[0].counters_changed) & lasting)[0]
    at = run_page("model_lookup", nights_app.data_dir, monkeypatch, query_params={"model": model_id})
    intervals = _intervals_shown(at)
    as_of = _as_of_day_ends(intervals, nights_app.dates)
    _check_days(as_of, nights_app, {n: nights_app.counters[n][model_id] for n in good})
    first, second = (as_of[nights_app.dates[n]] for n in good[:2])
    assert second[1] > first[1]  # its counters changed before night 2
    assert intervals["downloads_all_time_delta"].iloc[1] == second[1] - first[1]

    shown = metrics(at)
    assert shown["Lifecycle"] == "active"
    assert shown["First seen"] == f"{nights_app.dates[0]:%Y-%m-%d}"
    assert shown["Last seen"] == f"{nights_app.dates[good[-1]]:%Y-%m-%d}"
    assert shown["Gone since"] == "–"
    [(sightings,)] = _query(
        nights_app.warehouse, "select sightings from dim_model_lifecycle where model_id = ?", [model_id]
    )
    assert shown["Sightings"] == f"{sightings:,}" and sightings >= len(good)
    assert not any("Gone from the Hub" in warning.value for warning in at.warning)


def test_model_lookup_shows_one_interval_for_counters_that_never_changed(nights_app, monkeypatch):
    good = _good_nights(nights_app)
    touched = {m for evolution in nights_app.evolutions for m in (*evolution.counters_changed, *evolution.modified)}
    unchanged = sorted(
        model_id
        for model_id in set.intersection(*(set(nights_app.counters[n]) for n in good)) - touched
        if len({nights_app.counters[n][model_id] for n in good}) == 1
    )
    model_id = unchanged[0]
    at = run_page("model_lookup", nights_app.data_dir, monkeypatch, query_params={"model": model_id})
    [interval] = _intervals_shown(at).to_dict("records")
    assert tuple(interval[c] for c in COUNTERS) == nights_app.counters[good[0]][model_id]
    assert _day(interval["valid_from"]) == nights_app.dates[0]
    assert pd.isna(interval["valid_to"])  # still current: every night listed the same counters


def test_model_lookup_dates_a_deleted_model_and_keeps_its_history(nights_app, monkeypatch):
    model_id = sorted(nights_app.evolutions[0].deleted)[0]  # deleted before the second night
    at = run_page("model_lookup", nights_app.data_dir, monkeypatch, query_params={"model": model_id})
    gone = f"{nights_app.dates[1]:%Y-%m-%d}"
    assert f"Gone from the Hub since {gone}" in at.warning[0].value
    shown = metrics(at)
    assert (shown["Lifecycle"], shown["Gone since"]) == ("disappeared", gone)
    assert shown["Last seen"] == f"{nights_app.dates[0]:%Y-%m-%d}"
    [interval] = _intervals_shown(at).to_dict("records")
    assert _day(interval["valid_from"]) == nights_app.dates[0]
    # ended by the second night's counters sweep, which no longer listed it
    assert (interval["ended_by"], _day(interval["valid_to"])) == ("not_listed", nights_app.dates[1])
    assert tuple(interval[c] for c in COUNTERS) == nights_app.counters[0][model_id]


@pytest.mark.parametrize(
    ("family", "source"),
    [
        ("family_size desc", "`fct_family_daily`"),
        # Single-model families are not in fct_family_daily: the page reads the model's counter intervals.
        ("family_size = 1 desc, total_downloads desc", "its model's `fct_model_counters` intervals"),
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
    series = _counters_per_day(at)  # the demo crawl itself observed every model's counters once
    assert list(series["models_with_counters"]) == [demo_app.manifest.model_count]


def _copy_warehouse(source: Path, data_dir: Path) -> duckdb.DuckDBPyConnection:
    shutil.copy(source, data_dir / "warehouse.duckdb")
    return duckdb.connect(str(data_dir / "warehouse.duckdb"))


@pytest.fixture
def warehouse_without_history(demo_app, tmp_path: Path) -> Path:
    """The demo warehouse as a build from before the nightly pipeline made it: none of the history marts."""
    with _copy_warehouse(demo_app.warehouse, tmp_path) as con:
        con.execute("drop view fct_family_daily")
        for table in HISTORY_TABLES:
            con.execute(f"drop table {table}")
        for column in ECOSYSTEM_COUNTER_COLUMNS:
            con.execute(f"alter table fct_ecosystem_daily drop column {column}")
    return tmp_path


@pytest.fixture
def warehouse_with_daily_counters(nights_app, tmp_path: Path) -> Path:
    """The nights warehouse as a build from before issue 13 made it: counters per model per day in
    ``fct_model_daily_counters``, ``fct_family_daily`` a table, ``crawls_seen``, no counter sums per day.
    """
    with _copy_warehouse(nights_app.warehouse, tmp_path) as con:
        con.execute(
            "create table fct_model_daily_counters as select model_id, cast(valid_from as date) as counter_date, "
            "downloads_30d, downloads_all_time, likes from fct_model_counters"
        )
        con.execute("create table family_daily_table as select * from fct_family_daily")
        con.execute("drop view fct_family_daily")
        con.execute("alter table family_daily_table rename to fct_family_daily")
        con.execute("drop table fct_model_counters")
        con.execute("alter table dim_model_lifecycle rename column sightings to crawls_seen")
        for column in ECOSYSTEM_COUNTER_COLUMNS:
            con.execute(f"alter table fct_ecosystem_daily drop column {column}")
    return tmp_path


def test_pages_without_the_history_marts_say_how_to_build_them(warehouse_without_history, demo_app, monkeypatch):
    overview = run_page("overview", warehouse_without_history, monkeypatch)
    notes = [info.value for info in overview.info]
    assert any("no `fct_pipeline_runs` table" in note and "hubgenome build" in note for note in notes)
    assert any("no counter sums in `fct_ecosystem_daily`" in note and "hubgenome build" in note for note in notes)
    assert overview.metric  # the rest of the page still renders

    [(model_id,)] = _query(demo_app.warehouse, "select model_id from dim_models order by model_id limit 1")
    lookup = run_page("model_lookup", warehouse_without_history, monkeypatch, query_params={"model": model_id})
    notes = [info.value for info in lookup.info]
    assert any("no `fct_model_counters` table" in note for note in notes)
    assert any("No lifecycle for this model" in note for note in notes)
    assert "Family root" in metrics(lookup)

    explorer = run_page("family_explorer", warehouse_without_history, monkeypatch)
    assert any("no `fct_family_daily` table" in info.value for info in explorer.info)


def test_pages_with_day_by_day_counters_say_to_rebuild_with_full_refresh(
    warehouse_with_daily_counters, nights_app, monkeypatch
):
    def told_to_refresh(at, what: str) -> bool:
        return any(what in info.value and "hubgenome build --full-refresh" in info.value for info in at.info)

    overview = run_page("overview", warehouse_with_daily_counters, monkeypatch)
    assert told_to_refresh(overview, "no counter sums in `fct_ecosystem_daily`")
    assert _table_with(overview, "pipeline_run_id").shape[0] == len(nights_app.summaries)  # the rest still reads

    model_id = sorted(nights_app.evolutions[0].counters_changed)[0]
    lookup = run_page("model_lookup", warehouse_with_daily_counters, monkeypatch, query_params={"model": model_id})
    assert told_to_refresh(lookup, "no `fct_model_counters`")
    [(sightings,)] = _query(
        nights_app.warehouse, "select sightings from dim_model_lifecycle where model_id = ?", [model_id]
    )
    assert metrics(lookup)["Sightings"] == f"{sightings:,}"  # read from the old column, crawls_seen

    [(family_id,)] = _query(
        nights_app.warehouse, "select family_id from dim_families order by family_size desc, family_id limit 1"
    )
    explorer = run_page(
        "family_explorer", warehouse_with_daily_counters, monkeypatch, query_params={"family": family_id}
    )
    assert told_to_refresh(explorer, "no `fct_model_counters`")

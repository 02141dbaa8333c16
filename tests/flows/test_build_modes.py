"""Incremental or full refresh: which one a build runs, why, what dbt is told, and what is recorded.

A build starts from a copy of the published warehouse and tells dbt the landing rows appended
since (the build file's ``main.hubgenome_landing_window``) unless it cannot: then it rebuilds from
the landing (``--full-refresh``) and says why. Each build appends its row to ``main.hubgenome_builds``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from hubgenome.flows import build as build_module
from hubgenome.flows.build import BuildResult, build_warehouse
from hubgenome.flows.build_state import LANDING_WINDOW_TABLE, RAW_TABLES, project_fingerprint
from tests.support.cli import run_hubgenome
from tests.support.landings import land_crawl, model, tiny_models
from tests.support.warehouses import build, query


def _dbt_args(data_dir: Path) -> dict:
    """The arguments the last dbt invocation ran with, as dbt recorded them."""
    return json.loads((data_dir / "dbt" / "target" / "run_results.json").read_text())["args"]


def _builds(warehouse: Path) -> list[tuple]:
    return query(
        warehouse,
        "select build_id, build_mode, mode_reason, project_fingerprint, landing_window, raw_db "
        "from main.hubgenome_builds order by rowid",
    )


@pytest.fixture
def windows_seen(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, dict[str, int]]]:
    """The landing window of each build, as dbt finds it in the file it builds (in build order)."""
    seen: list[dict[str, dict[str, int]]] = []
    real_run_dbt = build_module.run_dbt

    def run_dbt(args: list[str], *, prepare: Callable[[Path], None] | None = None, **options) -> list:
        def prepare_then_look(path: Path) -> None:
            if prepare is not None:
                prepare(path)
            rows = query(path, f'select table_name, "after", "through" from main.{LANDING_WINDOW_TABLE}')
            seen.append({table: {"after": after, "through": through} for table, after, through in rows})

        return real_run_dbt(args, prepare=prepare_then_look, **options)

    monkeypatch.setattr(build_module, "run_dbt", run_dbt)
    return seen


def _through(raw_db: Path) -> dict[str, int]:
    with duckdb.connect(str(raw_db), read_only=True) as con:
        return {
            table: con.execute(f"select coalesce(max(rowid), -1) from {table}").fetchone()[0] for table in RAW_TABLES
        }


def test_a_first_build_is_a_full_refresh_and_the_next_one_processes_only_the_new_landing_rows(
    tmp_path: Path, windows_seen: list
) -> None:
    raw_db = tmp_path / "raw.duckdb"
    land_crawl(raw_db, tiny_models(), cards={"org/base": "# base"})

    def stale_analytics(path: Path) -> None:  # what an analytics step of this build leaves in the file
        with duckdb.connect(str(path)) as con:
            con.execute("create schema analytics; create table analytics.lineage_summary as select 1 as metric")

    first = build_warehouse(tmp_path, raw_db=raw_db, before_publish=stale_analytics)
    assert (first.build_mode, first.mode_reason) == (
        "full_refresh",
        "no published warehouse yet; building from the landing",
    )
    assert first.mode_summary.startswith("Full refresh: no published warehouse")
    through = _through(raw_db)
    full_window = {table: {"after": -1, "through": through[table]} for table in RAW_TABLES}
    assert windows_seen == [full_window]
    assert _dbt_args(tmp_path)["full_refresh"] is True
    assert not _dbt_args(tmp_path).get("vars")  # a table, not --vars: no re-parse of the project

    land_crawl(raw_db, [model("new/ft", tags=["base_model:org/base"]), model("new/solo")], mode="incremental")
    second = build(tmp_path, raw_db)

    assert second.build_mode == "incremental"
    assert second.mode_summary == (
        f"Incremental build (landing rows since build {first.build_id}: "
        "raw_models +2, raw_model_counters +0, raw_id_sweeps +0, raw_cards +0)"
    )
    window = {table: {"after": through[table], "through": _through(raw_db)[table]} for table in RAW_TABLES}
    assert window["raw_models"] == {"after": 11, "through": 13}
    assert second.landing_window == window
    assert windows_seen[1] == window
    assert not _dbt_args(tmp_path).get("full_refresh")

    warehouse = second.warehouse
    assert query(warehouse, "select count(*) from dim_models") == [(14,)]
    fingerprint = project_fingerprint()
    assert _builds(warehouse) == [
        (first.build_id, "full_refresh", first.mode_reason, fingerprint, json.dumps(full_window), str(raw_db)),
        (second.build_id, "incremental", second.mode_reason, fingerprint, json.dumps(window), str(raw_db)),
    ]
    # The copy's analytics described the old marts: a build without the analytics step publishes none.
    assert query(warehouse, "select count(*) from duckdb_schemas() where schema_name = 'analytics'") == [(0,)]
    # The window was dbt's, for that build: the published warehouse keeps it in hubgenome_builds only.
    assert query(warehouse, "select count(*) from duckdb_tables() where table_name = ?", [LANDING_WINDOW_TABLE]) == [
        (0,)
    ]
    assert not list(tmp_path.glob("warehouse.duckdb.building*"))

    third = build_warehouse(tmp_path, raw_db=raw_db, full_refresh=True)
    assert (third.build_mode, third.mode_reason) == ("full_refresh", "asked for (--full-refresh)")
    assert _dbt_args(tmp_path)["full_refresh"] is True
    # A full refresh starts from an empty file but keeps the log of every earlier build.
    assert [row[:2] for row in _builds(third.warehouse)] == [
        (first.build_id, "full_refresh"),
        (second.build_id, "incremental"),
        (third.build_id, "full_refresh"),
    ]


def _drop_build_state(tmp_path: Path, raw_db: Path) -> str:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("drop table main.hubgenome_builds")
    return "the warehouse was made by an older hubgenome without build state; rebuilding from the landing"


def _change_fingerprint(tmp_path: Path, raw_db: Path) -> str:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("update main.hubgenome_builds set project_fingerprint = '0123456789abcdef'")
    return (
        f"the warehouse's dbt project differs from this version's (fingerprint 0123456789abcdef vs "
        f"{project_fingerprint()}): rebuilding from the landing"
    )


def _replace_landing(tmp_path: Path, raw_db: Path) -> str:
    smaller = tmp_path / "rebuilt.duckdb"
    land_crawl(smaller, tiny_models()[:3])
    smaller.replace(raw_db)
    return "the landing has fewer rows than the warehouse was built from (raw_models has rows up to 2"


def _copy_landing(tmp_path: Path, raw_db: Path) -> str:
    shutil.copyfile(raw_db, raw_db.with_name("elsewhere.duckdb"))  # the next build reads the copy
    return f"the warehouse was built from another landing ({raw_db}, now {raw_db.with_name('elsewhere.duckdb')})"


def _land_an_older_crawl(tmp_path: Path, raw_db: Path) -> str:
    """A crawl that started before one the warehouse already holds lands rows (resumed across builds)."""
    now = dt.datetime.now(dt.UTC)
    held = land_crawl(raw_db, [model("new/later")], mode="incremental", started_at=now + dt.timedelta(days=2))
    assert build(tmp_path, raw_db).build_mode == "incremental"
    older = land_crawl(raw_db, [model("new/earlier")], mode="incremental", started_at=now + dt.timedelta(days=1))
    return (
        f"new landing rows of crawl {older} were observed before rows of crawl {held} the warehouse already "
        "holds (a crawl resumed across builds): rebuilding from the landing"
    )


TAMPERINGS: dict[str, Callable[[Path, Path], str]] = {
    "older-version": _drop_build_state,
    "other-dbt-project": _change_fingerprint,
    "landing-rebuilt": _replace_landing,
    "other-landing": _copy_landing,
    "crawl-resumed-across-builds": _land_an_older_crawl,
}


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=list(TAMPERINGS))
def test_a_warehouse_that_cannot_be_continued_is_fully_refreshed_with_the_reason(
    tmp_path: Path, tampering: str
) -> None:
    raw_db = tmp_path / "raw.duckdb"
    land_crawl(raw_db, tiny_models())
    build(tmp_path, raw_db)
    reason = TAMPERINGS[tampering](tmp_path, raw_db)
    if tampering == "other-landing":
        raw_db = raw_db.with_name("elsewhere.duckdb")

    result: BuildResult = build(tmp_path, raw_db)

    assert result.build_mode == "full_refresh"
    assert result.mode_reason.startswith(reason), result.mode_reason
    assert result.mode_summary == f"Full refresh: {result.mode_reason}"
    assert _dbt_args(tmp_path)["full_refresh"] is True
    models = {"landing-rebuilt": 3, "crawl-resumed-across-builds": len(tiny_models()) + 2}.get(
        tampering, len(tiny_models())
    )
    assert query(result.warehouse, "select count(*) from dim_models") == [(models,)]
    # the newest row is this build's, recorded with this version's fingerprint and landing
    newest = _builds(result.warehouse)[-1]
    assert newest[:2] == (result.build_id, "full_refresh")
    assert newest[3:] == (project_fingerprint(), json.dumps(result.landing_window), str(raw_db))


@pytest.mark.usefixtures("prefect_harness")
def test_the_build_command_says_which_mode_and_full_refresh_forces_one(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    land_crawl(tmp_path / "raw.duckdb", tiny_models())
    build(tmp_path, tmp_path / "raw.duckdb")  # the first build (a full refresh), in this process
    env = {"PREFECT_API_URL": PREFECT_API_URL.value() or ""}
    command = ("--data-dir", str(tmp_path), "build", "--no-analytics")

    again = run_hubgenome(*command, env_extra=env)
    assert again.returncode == 0, again.stderr
    assert "Incremental build (landing rows since build " in again.stdout
    assert "raw_models +0, raw_model_counters +0, raw_id_sweeps +0, raw_cards +0)" in again.stdout

    forced = run_hubgenome(*command, "--full-refresh", env_extra=env)
    assert forced.returncode == 0, forced.stderr
    assert "Full refresh: asked for (--full-refresh)" in forced.stdout

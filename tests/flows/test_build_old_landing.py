"""A landing made before the nightly-ops tables existed still builds; a landing held by a crawl is refused clearly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from hubgenome.core.errors import LandingLockedError
from hubgenome.flows import landing
from hubgenome.flows.build import build_warehouse
from tests.support.landings import land_crawl, tiny_models

#: The landing tables added with the nightly operations (a landing created earlier lacks them).
NIGHTLY_OPS_TABLES = ("raw_model_counters", "raw_id_sweeps", "pipeline_runs")


def _tables(raw_db: Path) -> set[str]:
    with duckdb.connect(str(raw_db), read_only=True) as con:
        return {row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()}


def _old_landing(raw_db: Path) -> None:
    land_crawl(raw_db, tiny_models())
    with duckdb.connect(str(raw_db)) as con:
        for table in NIGHTLY_OPS_TABLES:
            con.execute(f"drop table {table}")
    assert not _tables(raw_db) & set(NIGHTLY_OPS_TABLES)


def test_an_old_landing_is_migrated_before_dbt_and_builds(tmp_path):
    raw_db = tmp_path / "raw.duckdb"
    _old_landing(raw_db)
    with duckdb.connect(str(raw_db), read_only=True) as con:
        models_before = con.execute("select count(*) from raw_models").fetchone()[0]

    result = build_warehouse(tmp_path, raw_db=raw_db, warehouse=tmp_path / "warehouse.duckdb")

    assert set(NIGHTLY_OPS_TABLES) <= _tables(raw_db)
    with duckdb.connect(str(raw_db), read_only=True) as con:
        assert con.execute("select count(*) from raw_models").fetchone()[0] == models_before
        assert con.execute("select count(*) from raw_model_counters").fetchone()[0] == 0
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from dim_models").fetchone()[0] == len(tiny_models())
        assert con.execute("select count(*) from fct_pipeline_runs").fetchone()[0] == 0


def test_a_landing_held_by_another_process_is_refused_with_what_to_do(tmp_path):
    raw_db = tmp_path / "raw.duckdb"
    _old_landing(raw_db)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, duckdb
                con = duckdb.connect({str(raw_db)!r})
                print("holding", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(LandingLockedError, match=r"Cannot build the warehouse now.*a crawl still running"):
            build_warehouse(tmp_path, raw_db=raw_db, warehouse=tmp_path / "warehouse.duckdb")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not (tmp_path / "warehouse.duckdb").exists()
    assert not list(tmp_path.glob("warehouse.duckdb.building*"))
    assert landing.connect(raw_db, read_only=True).execute("select count(*) from crawl_runs").fetchone()[0] == 1


def test_a_complete_landing_of_views_is_only_read(tmp_path):
    """A landing of views over Parquet (docs/operations.md) has every table: nothing is created in it."""
    raw_db = tmp_path / "raw_lake.duckdb"
    with duckdb.connect(str(raw_db)) as con:
        for table in landing.TABLES:
            con.execute(f"create view {table} as select 1 as placeholder")
    assert landing.ensure_tables(raw_db) == []  # opening it writable would fail: landing_meta is a view
    assert _tables(raw_db) == set()


def test_ensure_tables_names_what_it_created(tmp_path):
    raw_db = tmp_path / "raw.duckdb"
    _old_landing(raw_db)
    assert landing.ensure_tables(raw_db) == list(NIGHTLY_OPS_TABLES)
    assert landing.ensure_tables(raw_db) == []

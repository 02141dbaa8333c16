"""Atomic publish: a failed or killed build leaves the published warehouse and its open readers untouched."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from hubgenome.core.errors import HubgenomeError
from hubgenome.flows import landing
from hubgenome.flows.build import ONE_THREAD_ABOVE_CARDS, WarehouseBuildError, build_warehouse, dbt_threads
from tests.support.landings import AUTO_CARD, LLAMA_CARD, land_crawl, model, tiny_models
from tests.support.warehouses import build, differing_tables, mart_row_hashes, query


def test_failed_build_keeps_previous_warehouse(tmp_path: Path) -> None:
    raw_db = tmp_path / "raw.duckdb"
    land_crawl(raw_db, tiny_models())
    published = build(tmp_path, raw_db).warehouse
    inode = published.stat().st_ino
    reader = duckdb.connect(str(published), read_only=True)  # a dashboard holding the file open
    try:
        assert reader.execute("select count(*) from dim_models").fetchone()[0] == 12
        # A card row with an unknown status breaks a source test: the build must fail.
        with duckdb.connect(str(raw_db)) as con:
            con.execute("insert into raw_cards values ('x', 'org/base', now(), null, 'bogus', 0, null, null, null)")
        land_crawl(raw_db, [model("new/model")])
        with pytest.raises(WarehouseBuildError) as failure:
            build(tmp_path, raw_db)
        assert isinstance(failure.value, HubgenomeError)
        assert "accepted_values" in str(failure.value)
        assert any("raw_cards" in node for node in failure.value.failed_nodes)
        assert published.stat().st_ino == inode
        assert reader.execute("select count(*) from dim_models").fetchone()[0] == 12
        assert not list(tmp_path.glob("warehouse.duckdb.building-*"))
    finally:
        reader.close()
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from dim_models").fetchone()[0] == 12


def test_publish_swaps_file_under_open_reader(tmp_path: Path) -> None:
    raw_db = tmp_path / "raw.duckdb"
    land_crawl(raw_db, tiny_models())
    published = build(tmp_path, raw_db).warehouse
    reader = duckdb.connect(str(published), read_only=True)
    try:
        land_crawl(raw_db, [model("new/model")], mode="incremental")
        build(tmp_path, raw_db)
        # The old reader still reads the old inode; a new connection sees the new build.
        assert reader.execute("select count(*) from dim_models").fetchone()[0] == 12
    finally:
        reader.close()
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from dim_models").fetchone()[0] == 13
        databases = {row[0] for row in con.execute("select database_name from duckdb_databases()").fetchall()}
        assert "raw" not in databases
    # dbt's target and logs stay under the data dir.
    assert (tmp_path / "dbt" / "target" / "run_results.json").exists()


def test_missing_landing_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WarehouseBuildError, match="hubgenome crawl"):
        build(tmp_path, tmp_path / "nope.duckdb")


def test_build_that_spills_to_disk_succeeds_with_two_dbt_threads(tmp_path: Path, monkeypatch) -> None:
    # With a memory limit this small the first large queries spill to DuckDB's temp directory. DuckDB
    # then refuses any later `SET temp_directory` (even to the same path), which dbt-duckdb runs on
    # every new cursor for each entry of the profile's `settings`: a build that spilled failed on
    # its next node. The spill settings must be applied once, when the database is opened.
    monkeypatch.setenv("HUBGENOME_DUCKDB_MEMORY_LIMIT", "150MB")
    monkeypatch.setenv("HUBGENOME_DBT_THREADS", "2")
    models = [model(f"org{i % 997}/m{i}", tags=[f"base_model:org{(i // 2) % 997}/m{i // 2}"]) for i in range(60_000)]
    raw_db = tmp_path / "raw.duckdb"
    land_crawl(raw_db, models)
    result = build(tmp_path, raw_db)
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        assert con.execute("select count(*), max(depth) from dim_models").fetchone() == (60_000, 16)


def test_a_landing_with_a_card_for_every_model_builds_with_one_dbt_thread(tmp_path: Path, monkeypatch) -> None:
    """Two whole-Hub nodes at once ran out of DuckDB's memory pool (see flows.build.ONE_THREAD_ABOVE_CARDS)."""
    monkeypatch.delenv("HUBGENOME_DBT_THREADS", raising=False)
    raw_db = tmp_path / "raw.duckdb"
    landing.connect(raw_db).close()
    assert dbt_threads(raw_db) == "2"
    with duckdb.connect(str(raw_db)) as con:
        con.execute(
            "insert into raw_cards (crawl_id, model_id, fetched_at, status) "
            "select 'c', 'm' || i, now(), 'missing' from range(?) as t(i)",
            [ONE_THREAD_ABOVE_CARDS + 1],
        )
    assert dbt_threads(raw_db) == "1"
    monkeypatch.setenv("HUBGENOME_DBT_THREADS", "2")
    assert dbt_threads(raw_db) == "2"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kill_build_inside_dbt(data_dir: Path, raw_db: Path) -> list[str]:
    """Start a build in a process of its own and SIGKILL it once dbt has created tables in its file; its output."""
    script = (
        "from pathlib import Path\n"
        "from hubgenome.flows.build import build_warehouse\n"
        f"build_warehouse(Path({str(data_dir)!r}), raw_db=Path({str(raw_db)!r}))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    watchdog = threading.Timer(300, process.kill)  # never hang the suite on a build that stalls
    watchdog.start()
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            # dbt writes under the stable name; "OK created" means it is past the copy and mid-build
            if "OK created" in line and (data_dir / "warehouse.duckdb.building").exists():
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=60)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL, "".join(lines)[-3000:]
    return lines


def test_a_build_killed_inside_dbt_leaves_the_published_warehouse_byte_identical_and_the_next_build_correct(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    raw_db = data_dir / "raw.duckdb"
    land_crawl(raw_db, tiny_models(), cards={"org/base": LLAMA_CARD})
    published = build(data_dir, raw_db).warehouse
    before = _sha256(published)
    land_crawl(
        raw_db,
        [model("new/ft", tags=["base_model:org/base", "base_model:finetune:org/base"]), model("new/solo")],
        mode="incremental",
        cards={"new/ft": AUTO_CARD},
    )

    output = _kill_build_inside_dbt(data_dir, raw_db)

    assert any(line.startswith("Incremental build (") for line in output), "".join(output)[-3000:]
    assert _sha256(published) == before
    assert not published.with_name("warehouse.duckdb.wal").exists()
    assert query(published, "select count(*) from dim_models") == [(12,)]

    resumed = build(data_dir, raw_db)
    assert resumed.build_mode == "incremental"
    assert not list(data_dir.glob("warehouse.duckdb.building*"))  # the killed build's file is gone
    assert query(published, "select count(*) from dim_models") == [(14,)]

    # The same landing rebuilt from scratch elsewhere gives the same tables, row for row.
    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    shutil.copyfile(raw_db, fresh_dir / "raw.duckdb")
    fresh = build_warehouse(fresh_dir, raw_db=fresh_dir / "raw.duckdb", full_refresh=True)
    assert fresh.build_mode == "full_refresh"
    assert differing_tables(mart_row_hashes(resumed.warehouse), mart_row_hashes(fresh.warehouse)) == {}

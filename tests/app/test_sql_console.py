"""The SQL console's guarantees: every attack is refused or bounded and the warehouse file is unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from hubgenome.app.sql import (
    QueryFailedError,
    QueryRefusedError,
    QueryTimeoutError,
    SqlConsole,
    SqlConsoleError,
    check_query,
    downloadable,
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def console(demo_app) -> SqlConsole:
    engine = SqlConsole(demo_app.warehouse, time_limit=2.0, row_limit=1000, memory_limit="512MB")
    yield engine
    engine.close()


def attacks(target: Path) -> list[str]:
    """Statements that would write, escape the warehouse, change settings or run forever."""
    return [
        "insert into dim_models (model_id) values ('x/evil')",
        "update dim_models set downloads = 0",
        "delete from dim_models",
        "create table evil as select 1",
        "create or replace view dim_models as select 1",
        "create temp table evil as select 1",
        "create macro evil() as 1",
        "drop table dim_models",
        "alter table dim_models add column evil int",
        "comment on table dim_models is 'evil'",
        f"attach '{target / 'evil.duckdb'}' as evil",
        "detach warehouse",
        f"copy dim_models to '{target / 'evil.csv'}'",
        f"copy (select 1) to '{target / 'evil.parquet'}' (format parquet)",
        f"export database '{target / 'evil-export'}'",
        f"import database '{target / 'evil-export'}'",
        "install httpfs",
        "load httpfs",
        f"load '{target / 'evil.duckdb_extension'}'",
        "update extensions",
        "set enable_external_access = true",
        "set lock_configuration = false",
        "reset memory_limit",
        "set threads = 64",
        "pragma enable_profiling",
        "pragma version",
        "call pragma_version()",
        "checkpoint",
        "force checkpoint",
        "vacuum",
        "analyze",
        "use memory",
        "begin",
        "commit",
        "rollback",
        "prepare p as select 1",
        "execute p",
        "create secret (type s3, key_id 'a', secret 'b')",
        "select * from read_csv('/etc/passwd')",
        "select * from read_csv_auto('/etc/passwd')",
        "select * from '/etc/passwd'",
        "select * from read_text('/etc/passwd')",
        "select * from read_blob('/etc/hostname')",
        "select * from read_json_auto('/etc/passwd')",
        "select * from glob('/etc/*')",
        "select * from sniff_csv('/etc/passwd')",
        "select * from read_parquet('http://127.0.0.1:9/evil.parquet')",
        "select * from read_parquet('s3://bucket/evil.parquet')",
        "select * from query('attach ''/tmp/evil.duckdb'' as evil')",
        "select getenv('HOME')",
        "select 1; drop table dim_models",
        "select 1; select 2",
        "explain analyze insert into dim_models (model_id) values ('x')",
        "select " + "1 + " * 10_000 + "1",
        "select count(*) from range(1e12::bigint) a cross join range(1e12::bigint) b",
        "select * from range(1e12::bigint) a cross join range(1e12::bigint) b",
        "select count(*) from range(1e13::bigint)",
        "with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r",
        "select string_agg(repeat('x', 1000000), ',') from range(100000)",
        "select * from range(1e10::bigint) order by random() limit 5",
    ]


def test_attack_list_is_refused_or_bounded_and_the_warehouse_is_unchanged(console, demo_app, tmp_path):
    before = sha256(demo_app.warehouse)
    siblings_before = sorted(p.name for p in demo_app.data_dir.iterdir())
    outcomes = {}
    for query in attacks(tmp_path):
        with pytest.raises(SqlConsoleError) as caught:
            console.run(query)
        outcomes[query[:60]] = type(caught.value).__name__
        assert str(caught.value), query
    assert sha256(demo_app.warehouse) == before
    assert sorted(p.name for p in demo_app.data_dir.iterdir()) == siblings_before
    assert list(tmp_path.iterdir()) == []  # nothing was written where the attacks pointed
    # writes and escapes never reach DuckDB; file reads reach it and are refused by the sealed connection
    assert outcomes["drop table dim_models"] == "QueryRefusedError"
    assert outcomes["select * from read_csv('/etc/passwd')"] == "QueryFailedError"
    assert outcomes["select count(*) from range(1e13::bigint)"] == "QueryTimeoutError"
    # and the console still works afterwards, on an unchanged table
    assert console.run("select count(*) as n from dim_models").frame["n"][0] == demo_app.manifest.model_count


@pytest.mark.parametrize(
    ("query", "kind", "says"),
    [
        ("drop table dim_models", QueryRefusedError, "read-only"),
        ("attach 'x.duckdb' as x", QueryRefusedError, "ATTACH"),
        ("install httpfs", QueryRefusedError, "extensions"),
        ("set threads = 1", QueryRefusedError, "settings are fixed"),
        ("select 1; select 2", QueryRefusedError, "Exactly one statement"),
        ("select 1 /* unterminated", QueryRefusedError, "could not parse"),
        ("", QueryRefusedError, "Type a query"),
        ("select * from read_csv('/etc/passwd')", QueryFailedError, "cannot read or write files"),
        ("select * from no_such_table", QueryFailedError, "Browse the schema"),
        ("select count(*) from range(1e13::bigint)", QueryTimeoutError, "time limit"),
    ],
)
def test_messages_say_what_to_do(console, query, kind, says):
    with pytest.raises(kind) as caught:
        console.run(query)
    assert says.lower() in str(caught.value).lower()


def test_row_limit_truncates_and_says_so(console):
    result = console.run("select * from range(5000) t(n)")
    assert result.frame.height == 1000 and result.truncated
    small = console.run("select * from range(10) t(n)")
    assert small.frame.height == 10 and not small.truncated


def test_timeout_is_enforced_within_bounds(console):
    with pytest.raises(QueryTimeoutError):
        console.run("select count(*) from range(1e13::bigint)")
    # a query after an interrupt runs normally
    assert console.run("select 42 as answer").frame["answer"][0] == 42


@pytest.mark.parametrize(
    "query",
    [
        "select model_id from dim_models order by model_id limit 3",
        "with t as (select 1 as a) select * from t",
        "from dim_families limit 2",
        "describe dim_models",
        "show tables",
        "summarize dim_families",
        "explain select count(*) from dim_models",
        "pivot dim_models on license_category using count(*) group by gated_mode",
        "values (1, 'a'), (2, 'b')",
        "-- a comment first\nselect 1 as one -- and one after",
        "select 1 as one;",
    ],
)
def test_read_only_statements_run(console, query):
    result = console.run(query)
    assert result.frame.height >= 1


def test_check_query_wraps_with_the_row_limit():
    assert check_query("select 1;", row_limit=5) == "select * from (\nselect 1\n) limit 6"
    assert check_query("explain select 1").startswith("explain")


def test_results_download_as_csv_even_with_nested_columns(console):
    result = console.run("select model_id, license_ids, nodes_per_generation from dim_models, dim_families limit 2")
    csv = downloadable(result.frame).write_csv()
    assert csv.splitlines()[0] == "model_id,license_ids,nodes_per_generation"
    assert pl.read_csv(csv.encode()).height == 2


def test_schema_lists_every_schema_and_column(console):
    schema = console.schema()
    assert {"main", "staging", "reference", "analytics"} <= set(schema["schema"].to_list())
    models = schema.filter((pl.col("schema") == "main") & (pl.col("table") == "dim_models"))
    assert "model_id" in models["column"].to_list()

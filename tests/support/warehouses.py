"""Warehouses built for the tests (from a raw landing, or from a corpus folder), and reading them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from hubgenome.flows.build import BuildResult, build_and_publish, build_warehouse
from hubgenome.flows.corpus_import import import_corpus
from hubgenome.flows.options import BuildOptions


def build(tmp_path: Path, raw_db: Path) -> BuildResult:
    """Build ``tmp_path/warehouse.duckdb`` from the landing ``raw_db`` (no analytics step)."""
    return build_warehouse(tmp_path, raw_db=raw_db, warehouse=tmp_path / "warehouse.duckdb")


def build_from_corpus(data_dir: Path, corpus: Path, *, with_analytics: bool) -> None:
    """Land a corpus folder into ``data_dir/raw.duckdb`` and build ``data_dir/warehouse.duckdb`` from it."""
    raw = data_dir / "raw.duckdb"
    import_corpus(corpus, raw)
    options = BuildOptions(analytics=with_analytics)
    build_and_publish(data_dir, options, raw_db=raw, warehouse=data_dir / "warehouse.duckdb")


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """The rows of one query on a warehouse file, opened read-only."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@dataclass(frozen=True)
class BuiltWarehouse:
    """A data directory holding a built warehouse, and the demo's ground truth when it was generated."""

    data_dir: Path
    manifest: object | None = None

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"


@dataclass(frozen=True)
class Nights:
    """A warehouse after several pipeline nights, and what the Hub said on each night."""

    data_dir: Path
    dates: list[dt.date]
    summaries: list  # PipelineSummary per night, failed ones included
    #: per night: model id -> (downloads, downloadsAllTime, likes) the Hub listed; empty when the Hub was down
    counters: list[dict[str, tuple[int, int, int]]]
    evolutions: list = field(default_factory=list)  # EvolutionManifest before nights 2 and 4

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"


#: Schemas whose tables :func:`mart_row_hashes` compares: marts (``main``), staging, intermediate,
#: the seeds (``reference``) and the analytics step's tables.
HASHED_SCHEMAS = ("main", "staging", "intermediate", "reference", "analytics")
#: Tables whose content is about the build itself (its id, mode, time, duration), not the data.
BUILD_PROVENANCE_TABLES = frozenset({"main.hubgenome_builds", "analytics.run_info"})
#: Floats are compared to this many decimals: an incremental build may add up in another order.
HASH_FLOAT_DECIMALS = 9


def mart_row_hashes(warehouse: Path) -> dict[str, tuple[int, str]]:
    """``schema.table`` → (row count, hash of its sorted rows) for every table of the warehouse.

    Every table (not view: a view is its query, compared through the tables it reads) of the marts,
    staging, intermediate, seeds and analytics schemas, except :data:`BUILD_PROVENANCE_TABLES`.
    The hash is exact and independent of row order: each row (its columns in name order, floats
    rounded to :data:`HASH_FLOAT_DECIMALS` decimals) is cast to text and hashed, and the row hashes
    are hashed again in sorted order, so duplicate rows count as often as they occur. Two builds of
    the same landing, incremental or from scratch, must give equal dicts.
    """
    hashes: dict[str, tuple[int, str]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            f"where database_name = current_database() and schema_name in {HASHED_SCHEMAS!r} order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            name = f"{schema}.{table}"
            if name in BUILD_PROVENANCE_TABLES:
                continue
            columns = con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = current_database() and schema_name = ? and table_name = ? order by 1",
                [schema, table],
            ).fetchall()
            values = ", ".join(
                f'"{column}" := round("{column}", {HASH_FLOAT_DECIMALS})'
                if data_type in ("DOUBLE", "FLOAT", "REAL")
                else f'"{column}" := "{column}"'
                for column, data_type in columns
            )
            count, digest = con.execute(
                f"select count(*), coalesce(md5(string_agg(row_hash, ',' order by row_hash)), '') "
                f'from (select md5(cast(struct_pack({values}) as varchar)) as row_hash from "{schema}"."{table}")'
            ).fetchone()
            hashes[name] = (count, digest)
    return hashes


def differing_tables(got: dict[str, tuple[int, str]], expected: dict[str, tuple[int, str]]) -> dict[str, str]:
    """The tables whose :func:`mart_row_hashes` differ, each with its row counts (empty when equal)."""

    def rows(hashes: dict[str, tuple[int, str]], name: str) -> str:
        return f"{hashes[name][0]} rows" if name in hashes else "absent"

    return {
        name: f"{rows(got, name)} vs {rows(expected, name)}"
        for name in sorted(set(got) | set(expected))
        if got.get(name) != expected.get(name)
    }

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

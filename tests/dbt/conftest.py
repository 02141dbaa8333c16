"""Fixtures for the warehouse tests: built warehouses (their helpers live in tests/support/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.support.landings import AUTO_CARD, BROKEN_CARD, LLAMA_CARD, land_crawl, model, tiny_models
from tests.support.warehouses import build


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built from two crawls of the tiny ecosystem (the second changes a/ft's licence)."""
    data_dir = tmp_path_factory.mktemp("tiny")
    raw_db = data_dir / "raw.duckdb"
    first = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    land_crawl(
        raw_db,
        tiny_models(),
        cards={"org/base": LLAMA_CARD, "a/ft": AUTO_CARD, "a/q": BROKEN_CARD},
        started_at=first,
    )
    changed = model(
        "a/ft",
        tags=["base_model:org/base", "base_model:finetune:org/base", "license:mit", "en"],
        cardData={"license": "mit", "base_model": "org/base"},
    )
    land_crawl(raw_db, [changed], mode="incremental", started_at=first + dt.timedelta(days=2))
    return build(data_dir, raw_db).warehouse

"""Fixtures shared by every test: an isolated data directory, no token, no network, the real corpora.

Helpers live in ``tests/support/`` (one module per thing they help with); only fixtures live here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before Prefect is imported anywhere: no telemetry, no warnings about logs outside flow runs.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")

# The helpers' own asserts (e.g. a page ran without an exception) explain themselves as the tests' do.
pytest.register_assert_rewrite("tests.support")

from tests.support.shared_data import corpus_path  # noqa: E402 (after the rewrite hook above)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes under its own data dir, sends no token and never reaches the real Hub."""
    data_dir = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("HUBGENOME_DATA_DIR", str(data_dir))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # a closed port: nothing leaks to the Hub
    return data_dir


@pytest.fixture
def trees_corpus() -> Path:
    return corpus_path("trees-2025-04")


@pytest.fixture
def cards_corpus() -> Path:
    return corpus_path("cards-2022-02")


@pytest.fixture
def hub_corpus() -> Path:
    return corpus_path("hub-2024-07")


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole session (starting one costs ~15 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def safety_slice(tmp_path_factory: pytest.TempPathFactory):
    """The hub-2024-07 slice around the JailbreakBench models (tests.support.safety), landed and built
    with analytics, with the bundled reference set only: ``(data_dir, HubSlice)``. Skips without the corpus."""
    from hubgenome.flows.build import build_and_publish
    from hubgenome.flows.options import BuildOptions
    from tests.support.safety import hub_slice, land_slice

    corpus = corpus_path("hub-2024-07")
    data_dir = tmp_path_factory.mktemp("safety-slice")
    lineage = hub_slice(corpus)
    land_slice(data_dir / "raw.duckdb", lineage)
    build_and_publish(
        data_dir, BuildOptions(analytics=True), raw_db=data_dir / "raw.duckdb", warehouse=data_dir / "warehouse.duckdb"
    )
    return data_dir, lineage

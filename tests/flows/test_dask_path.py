"""The Dask path: cards and similarity scoring on a local two-process cluster give the local path's results.

One ``distributed.LocalCluster`` (two worker processes, one thread each) for the module. Each test
runs the same work once locally and once with ``dask_address``, compares the results in full, and
shows from the scheduler's task stream that the Dask run's tasks ran on both workers.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from distributed import Client, LocalCluster, get_task_stream

from hubgenome.analytics import similarity
from hubgenome.analytics.run import SCHEMA
from hubgenome.core.settings import resolve_dask_address
from hubgenome.flows.analytics_stage import run_analytics_on
from hubgenome.flows.crawl import run_crawl
from hubgenome.flows.hub_client import HubClient
from hubgenome.flows.options import CrawlOptions
from hubgenome.flows.scale_out import fetch_card_batch
from hubgenome.local_hub.server import LocalHub
from tests.support.crawling import crawl, fast_client
from tests.support.shared_data import corpus_path

pytestmark = pytest.mark.usefixtures("prefect_harness")

#: run_info rows that hold wall-clock values (the only ones allowed to differ between two runs).
WALL_CLOCK_KEYS = "key = 'started_at' or key like 'seconds.%'"


@pytest.fixture(scope="module")
def dask_cluster():
    with (
        LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(2)
        yield cluster, client


def _worker_addresses(client: Client) -> set[str]:
    return set(client.scheduler_info()["workers"])


def _digest(rows: list[tuple]) -> str:
    """A hash of rows in a stable order (repr keeps every float bit, and NaN equal to NaN)."""
    return hashlib.sha256(repr(rows).encode()).hexdigest()


# -- plain pieces, no cluster ------------------------------------------------------------------------


def test_a_hub_client_travels_with_its_settings_and_fresh_stats():
    client = HubClient("http://127.0.0.1:9", token="hf_test", max_retries=2, backoff_base=0.01, pacing=False)
    client.stats.requests = 5
    copy = pickle.loads(pickle.dumps(client))
    assert (copy.endpoint, copy.max_retries, copy.backoff_base) == ("http://127.0.0.1:9", 2, 0.01)
    assert copy._headers == client._headers and copy.pacer.enabled is False
    assert copy.stats.requests == 0 and client.stats.requests == 5


def test_dask_address_comes_from_the_option_else_the_setting(monkeypatch):
    monkeypatch.delenv("HUBGENOME_DASK_ADDRESS", raising=False)
    assert resolve_dask_address() is None
    monkeypatch.setenv("HUBGENOME_DASK_ADDRESS", "tcp://scheduler:8786")
    assert resolve_dask_address() == "tcp://scheduler:8786"
    assert resolve_dask_address("tcp://other:8786") == "tcp://other:8786"


def test_a_card_batch_keeps_its_order(trees_corpus):
    with LocalHub(trees_corpus) as hub:
        client = fast_client(hub.url)
        wanted = [("no/such-model", None), *[(model_id, None) for model_id in sorted(hub.corpus.cards)[:20]]]
        fetches = fetch_card_batch(client, wanted, concurrency=4)
    assert [fetch.model_id for fetch in fetches] == [model_id for model_id, _ in wanted]
    assert fetches[0].status == "missing" and {fetch.status for fetch in fetches[1:]} <= {"ok", "gated"}


# -- on the cluster ------------------------------------------------------------------------------------


def _landed_cards(data_dir: Path) -> list[tuple]:
    with duckdb.connect(str(data_dir / "raw.duckdb"), read_only=True) as con:
        return con.execute(
            """
            select model_id, model_sha, status, http_status, card_text, card_sha256, error
            from raw_cards order by all
            """
        ).fetchall()


@pytest.mark.slow
def test_cards_fetched_on_dask_are_the_cards_fetched_locally(trees_corpus, tmp_path, dask_cluster):
    cluster, client = dask_cluster
    with LocalHub(trees_corpus) as hub:
        local = crawl(hub.url, tmp_path / "local")
        with get_task_stream(client) as stream:
            on_dask = run_crawl(
                client=fast_client(hub.url),
                data_dir=tmp_path / "dask",
                options=CrawlOptions(dask_address=cluster.scheduler_address, card_batch_size=200),
                show_progress=False,
            )
    local_cards, dask_cards = _landed_cards(tmp_path / "local"), _landed_cards(tmp_path / "dask")
    assert len(dask_cards) == len(hub.corpus.ids) == on_dask.models_total
    assert dask_cards == local_cards and _digest(dask_cards) == _digest(local_cards)
    assert on_dask.cards == local.cards and on_dask.cards.get("ok", 0) > 0
    # the workers' requests were counted back into the crawl's summary
    assert on_dask.requests == local.requests
    # the batches ran on the cluster, spread over both worker processes
    batches = -(-len(dask_cards) // 200)
    assert len(stream.data) == batches
    assert {task["worker"] for task in stream.data} == _worker_addresses(client)


@pytest.fixture(scope="module")
def trees_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """trees-2025-04 imported and built once (dbt only); each test copies the file before analysing it."""
    from hubgenome.flows.build import build_warehouse
    from hubgenome.flows.corpus_import import import_corpus

    data_dir = tmp_path_factory.mktemp("trees-dask")
    raw_db = data_dir / "raw.duckdb"
    import_corpus(corpus_path("trees-2025-04"), raw_db)
    return build_warehouse(data_dir, raw_db=raw_db).warehouse


def _analytics_tables(path: Path) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """Every analytics table: (column names and types, rows in a stable order); run_info without wall clock."""
    tables: dict[str, tuple[list[tuple], list[tuple]]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [SCHEMA]
            ).fetchall()
        ]
        for name in names:
            columns = con.execute(f"describe {SCHEMA}.{name}").fetchall()
            where = f"where not ({WALL_CLOCK_KEYS})" if name == "run_info" else ""
            rows = con.execute(f"select * from {SCHEMA}.{name} {where} order by all").fetchall()
            tables[name] = (columns, rows)
    return tables


@pytest.mark.slow
def test_analytics_on_dask_are_identical_to_local_on_trees(trees_build, tmp_path, dask_cluster):
    cluster, client = dask_cluster
    local_file, dask_file = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    shutil.copyfile(trees_build, local_file)
    shutil.copyfile(trees_build, dask_file)
    run_analytics_on(local_file)
    with get_task_stream(client) as stream:
        run_analytics_on(dask_file, dask_address=cluster.scheduler_address)
    local, on_dask = _analytics_tables(local_file), _analytics_tables(dask_file)
    assert sorted(on_dask) == sorted(local) and "similarity" in local
    different = [name for name in local if _digest(local[name][1]) != _digest(on_dask[name][1])]
    assert different == []
    assert all(local[name][0] == on_dask[name][0] for name in local)
    genomes = {row[0] for row in local["similarity"][1]}
    assert "card" in genomes and len(genomes) == 3
    # one scoring task per (genome, motif, config), i.e. per group of rows of the similarity table
    assert len(stream.data) == len(local["similarity"][1]) // len(similarity.MEASURES)
    assert {task["worker"] for task in stream.data} == _worker_addresses(client)


@pytest.mark.slow
def test_the_crawl_command_with_dask_lands_the_cards_fetched_on_the_cluster(trees_corpus, tmp_path, dask_cluster):
    """``hubgenome crawl --dask ADDRESS`` end to end: a separate process, its flow on the cluster's task runner."""
    cluster, client = dask_cluster
    with LocalHub(trees_corpus) as hub:
        local = crawl(hub.url, tmp_path / "local", limit=300)
        with get_task_stream(client) as stream:
            result = subprocess.run(
                [
                    sys.executable, "-m", "hubgenome.cli", "--data-dir", str(tmp_path / "cli"), "crawl",
                    "--endpoint", hub.url, "--limit", "300", "--dask", cluster.scheduler_address,
                ],
                capture_output=True, text=True, timeout=600, env=dict(os.environ, CI="true"),
            )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    cards = _landed_cards(tmp_path / "cli")
    assert len(cards) == 300 and cards == _landed_cards(tmp_path / "local")
    assert local.cards.get("ok", 0) > 0
    # 300 models fit in one batch of the default size: one task, run by a worker of the cluster
    assert len(stream.data) == 1 and stream.data[0]["worker"] in _worker_addresses(client)

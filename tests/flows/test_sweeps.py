"""Counters and id sweeps: compact rows, resumable like crawls, disappearances found without deleting anything."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hubgenome.core.errors import HubCrawlError
from hubgenome.flows import landing
from hubgenome.flows.sweeps import run_sweep
from hubgenome.local_hub.demo import generate_corpus
from hubgenome.local_hub.demo.synthetic import evolve_corpus
from hubgenome.local_hub.server import LocalHub
from tests.support.corpus_files import corpus_models
from tests.support.crawling import DiesAfterPages, crawl_runs, fast_client

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweeps") / "corpus"
    generate_corpus(path, n_models=300, seed=5)
    return path


def _rows(data_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data_dir / "raw.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_counters_sweep_lands_only_the_counters_and_resumes_after_a_crash(corpus: Path, tmp_path: Path) -> None:
    with LocalHub(corpus) as hub:
        with pytest.raises(HubCrawlError):
            dying = DiesAfterPages(hub.url, pages=3)
            run_sweep("counters", data_dir=tmp_path, client=dying, task_retries=0, page_size=50)
        interrupted = crawl_runs(tmp_path)[-1]
        assert (interrupted["mode"], interrupted["state"], interrupted["pages_landed"]) == ("counters", "failed", 3)
        assert interrupted["next_url"]  # the checkpoint is kept
        summary = run_sweep("counters", data_dir=tmp_path, client=fast_client(hub.url), page_size=50)
    assert summary.resumed and summary.crawl_id == interrupted["crawl_id"]
    assert summary.models_total == 300
    truth = {m["id"]: (m["_id"], m["downloads"], m["downloadsAllTime"], m["likes"]) for m in corpus_models(corpus)}
    landed = _rows(
        tmp_path,
        "select model_id, model_object_id, downloads, downloads_all_time, likes from raw_model_counters",
    )
    assert len(landed) == len(truth)  # no page landed twice
    assert {m: rest for m, *rest in landed} == {m: list(v) for m, v in truth.items()}
    assert crawl_runs(tmp_path)[-1]["state"] == "succeeded"


def test_id_sweep_dates_disappearances_and_keeps_history(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate_corpus(corpus, n_models=150, seed=9)
    data = tmp_path / "data"
    with LocalHub(corpus) as hub:
        first = run_sweep("ids", data_dir=data, client=fast_client(hub.url))
        assert (first.models_total, first.disappeared) == (150, 0)
        evolution = evolve_corpus(corpus, seed=3, added=4, modified=2, deleted=6, counters_changed=5)
        hub.reload()
        second = run_sweep("ids", data_dir=data, client=fast_client(hub.url))
    assert second.disappeared == 6
    con = landing.connect(data / "raw.duckdb")
    try:
        assert landing.newly_disappeared(con, second.crawl_id) == evolution.deleted
        # The first sweep's rows are all still there: nothing is ever deleted.
        assert (
            con.execute("select count(*) from raw_id_sweeps where crawl_id = ?", [first.crawl_id]).fetchone()[0] == 150
        )
    finally:
        con.close()

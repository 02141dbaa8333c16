"""The nightly pipeline on a bad night: a failed stage, an alert, the next run resuming; overlapping runs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest
from typer.testing import CliRunner

from hubgenome.cli import app
from hubgenome.flows.options import BuildOptions, PipelineOptions
from hubgenome.flows.pipeline import LOCK_FILE_NAME, PipelineFailedError, PipelineLock, run_pipeline
from hubgenome.local_hub.demo import generate_corpus
from hubgenome.local_hub.server import HubBehaviour, LocalHub
from tests.support.crawling import crawl_runs, fast_client

pytestmark = pytest.mark.usefixtures("prefect_harness")


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook():
    """A local HTTP receiver in a thread; yields (url, list of JSON bodies received)."""
    handler = type("Receiver", (_Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler.received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = tmp_path_factory.mktemp("pipeline") / "corpus"
    generate_corpus(corpus, n_models=200, seed=11)
    return corpus


#: The nights here fail or overlap on purpose: no analytics, no task retries, one request retry.
WITHOUT_ANALYTICS = PipelineOptions(build=BuildOptions(analytics=False))
WITHOUT_BUILD = PipelineOptions(build=None)


def _run(endpoint: str, data_dir: Path, options: PipelineOptions = WITHOUT_ANALYTICS):
    return run_pipeline(
        client=fast_client(endpoint, max_retries=1),
        data_dir=data_dir,
        options=options,
        show_progress=False,
        task_retries=0,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_failed_stage_alerts_keeps_the_warehouse_and_the_next_run_resumes(
    small_corpus: Path, tmp_path: Path, webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = webhook
    monkeypatch.setenv("HUBGENOME_ALERT_WEBHOOK", url)
    with LocalHub(small_corpus) as hub:
        endpoint, port = hub.url, hub.port
        assert _run(endpoint, tmp_path).state == "succeeded"
    warehouse = tmp_path / "warehouse.duckdb"
    published = _sha256(warehouse)

    # The Hub is down tonight: the crawl stage fails after its retries.
    with pytest.raises(PipelineFailedError) as failure:
        _run(endpoint, tmp_path)
    assert "stage 'crawl'" in str(failure.value)
    assert "still serving" in str(failure.value)
    assert failure.value.summary.failed_stage == "crawl"
    assert _sha256(warehouse) == published  # the last published warehouse keeps serving
    assert len(received) == 1
    alert = received[0]
    assert alert["summary"]["state"] == "failed"
    assert alert["summary"]["failed_stage"] == "crawl"
    assert alert["summary"]["pipeline_run_id"] == failure.value.summary.pipeline_run_id
    assert "failed at stage 'crawl'" in alert["text"]
    failed_crawl = crawl_runs(tmp_path)[-1]
    assert (failed_crawl["mode"], failed_crawl["state"]) == ("incremental", "failed")

    # The Hub is back on the same address: the next run resumes the failed crawl and completes.
    with LocalHub(small_corpus, port=port) as hub:
        assert hub.url == endpoint
        summary = _run(endpoint, tmp_path, replace(WITHOUT_ANALYTICS, id_sweep="never"))
    assert summary.state == "succeeded"
    assert summary.crawl_id == failed_crawl["crawl_id"]
    assert summary.crawl_resumed is True
    assert len(received) == 1  # no alert for a good night
    with duckdb.connect(str(warehouse), read_only=True) as con:
        runs = con.execute("select run_state, failed_stage from fct_pipeline_runs order by started_at").fetchall()
    assert runs == [("succeeded", None), ("failed", "crawl"), ("running", None)]


def test_a_second_run_is_refused_while_the_first_one_runs(small_corpus: Path, tmp_path: Path) -> None:
    # Every listing answer takes 1.5 s, so the first run is still crawling when the second starts.
    with LocalHub(small_corpus, HubBehaviour(faults="slow=1:1.5;on=api")) as hub:
        results: dict[str, object] = {}
        first = threading.Thread(target=lambda: results.update(first=_run(hub.url, tmp_path, WITHOUT_BUILD)))
        first.start()
        lock_file = tmp_path / LOCK_FILE_NAME
        deadline = time.monotonic() + 60
        while not (lock_file.exists() and lock_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = _run(hub.url, tmp_path, WITHOUT_BUILD)
        first.join(timeout=120)
    assert second.state == "skipped"
    assert f"pid {os.getpid()}" in second.message
    assert "Another pipeline run is in progress" in second.message
    assert results["first"].state == "succeeded"
    # Only the first run crawled: one full crawl, one id sweep and its reconciliation, no second anything.
    assert sorted(run["mode"] for run in crawl_runs(tmp_path)) == ["full", "ids", "reconcile"]
    assert lock_file.read_text() == ""  # released


def test_a_lock_held_by_another_process_is_respected_and_taken_over_once_it_died(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from hubgenome.flows.pipeline import PipelineLock; "
            f"lock = PipelineLock(Path({str(tmp_path / LOCK_FILE_NAME)!r})); assert lock.acquire(); "
            "print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = _run("http://127.0.0.1:9", tmp_path)
        assert refused.state == "skipped"
        assert f"pid {holder.pid}" in refused.message
        assert not (tmp_path / "raw.duckdb").exists()  # the refused run touched nothing
    finally:
        holder.kill()
        holder.wait()
    lock = PipelineLock(tmp_path / LOCK_FILE_NAME)
    assert lock.acquire()  # the dead process's lock is stale: taken over
    assert lock.taken_over_pid == holder.pid
    lock.release()


def test_cli_pipeline_exits_cleanly_when_another_run_holds_the_lock(tmp_path: Path) -> None:
    lock = PipelineLock(tmp_path / LOCK_FILE_NAME)
    assert lock.acquire()
    try:
        result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "pipeline", "--endpoint", "http://127.0.0.1:9"])
    finally:
        lock.release()
    assert result.exit_code == 0, result.output
    assert "Another pipeline run is in progress" in result.output

"""``hubgenome schedule`` starts a local Prefect server, triggers the pipeline on its schedule, stops cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hubgenome.local_hub.demo import generate_corpus
from hubgenome.local_hub.server import LocalHub

REPO_ROOT = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, pattern: str, timeout: float) -> re.Match | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, path.read_text(errors="replace")) if path.exists() else None
        if match:
            return match
        time.sleep(0.5)
    return None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False


@pytest.mark.slow
def test_schedule_serves_the_pipeline_on_a_local_server_and_triggers_it(tmp_path: Path) -> None:
    corpus, data_dir, log = tmp_path / "corpus", tmp_path / "data", tmp_path / "schedule.log"
    generate_corpus(corpus, n_models=80, seed=3)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PYTHONUNBUFFERED="1")
    with LocalHub(corpus) as hub, log.open("wb") as out:
        command = [
            sys.executable, "-m", "hubgenome.cli", "--data-dir", str(data_dir), "schedule",
            "--interval", "5", "--endpoint", hub.url, "--id-sweep", "never",
        ]  # fmt: skip
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        try:
            server = _wait_for(log, r"Prefect server on (http://127\.0\.0\.1:\d+/api)", timeout=180)
            assert server, log.read_text()
            api_url = server.group(1)
            assert _wait_for(log, r"Serving nightly-pipeline/nightly every 5 s", timeout=60), log.read_text()
            # Nobody triggers it by hand: the schedule does, and the run crawls the local Hub.
            assert _wait_for(log, r"Pipeline \S+ succeeded", timeout=240), log.read_text()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    text = log.read_text()
    assert "Cannot schedule flows on an ephemeral server" not in text
    assert "Prefect server stopped" in text
    assert not _answers(f"{api_url}/health")  # the server went with it
    assert (data_dir / "warehouse.duckdb").exists()
    assert (data_dir / "prefect").is_dir()  # its SQLite database lives under the data dir

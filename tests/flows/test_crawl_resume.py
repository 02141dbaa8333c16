"""A crawl killed with SIGKILL mid-way resumes from its checkpoint and ends with the same model set."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubgenome.local_hub.server import HubBehaviour, LocalHub
from tests.support.corpus_files import slice_corpus
from tests.support.crawling import crawl, crawl_runs, landed_model_ids

pytestmark = pytest.mark.usefixtures("prefect_harness")

SLICE_MODELS = 30_000


def _cli_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HUBGENOME_DATA_DIR=str(data_dir),
        PREFECT_HOME=str(data_dir / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        CI="true",
    )
    env.pop("PREFECT_API_URL", None)
    return env


def _start_crawl(endpoint: str, data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hubgenome.cli", "crawl", "--endpoint", endpoint, "--no-cards"],
        env=_cli_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the kill takes Prefect's helper server too
    )


def _listing_requests(hub: LocalHub) -> int:
    return hub.stats()["by_bucket"].get("api", 0)


def test_sigkilled_crawl_resumes_to_the_same_model_set(hub_corpus, tmp_path):
    corpus = tmp_path / "slice"
    ids = slice_corpus(hub_corpus, corpus, models=SLICE_MODELS)
    killed_dir = tmp_path / "killed"

    # Slow every listing answer down so the kill surely lands mid-crawl.
    with LocalHub(corpus, HubBehaviour(faults="slow=1.0:0.3;seed=11")) as hub:
        process = _start_crawl(hub.url, killed_dir)
        deadline = time.monotonic() + 180
        while _listing_requests(hub) < 8:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace")
                pytest.fail(f"crawl ended or stalled before it could be killed:\n{output[-3000:]}")
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    [interrupted] = crawl_runs(killed_dir)
    assert interrupted["state"] == "running" and interrupted["next_url"]
    assert 0 < interrupted["pages_landed"] < SLICE_MODELS // 1000
    partial = landed_model_ids(killed_dir, interrupted["crawl_id"])
    assert len(partial) == interrupted["models_landed"] == len(set(partial))

    # The same endpoint (a crawl resumes per endpoint), now without the slowdown.
    with LocalHub(corpus, port=int(interrupted["endpoint"].rsplit(":", 1)[1])) as hub:
        resumed = _start_crawl(hub.url, killed_dir)
        output, _ = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, output.decode(errors="replace")[-3000:]
        reference = crawl(hub.url, tmp_path / "uninterrupted", cards=False)

    [finished] = crawl_runs(killed_dir)
    assert finished["crawl_id"] == interrupted["crawl_id"] and finished["state"] == "succeeded"
    landed = landed_model_ids(killed_dir, finished["crawl_id"])
    assert [model_id for model_id, n in collections.Counter(landed).items() if n > 1] == []
    assert set(landed) == set(landed_model_ids(tmp_path / "uninterrupted", reference.crawl_id)) == set(ids)

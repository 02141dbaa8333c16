"""The ``hubgenome`` command: every command listed, known failures reported without a traceback."""

from __future__ import annotations

import pytest
from hubgenome.local_hub.server import LocalHub

from tests.support.cli import run_hubgenome
from tests.support.corpus_files import tiny_model, write_jsonl_gz


def test_help_lists_every_command():
    result = run_hubgenome("--help")
    assert result.returncode == 0
    for command in ("serve-hub", "crawl", "build", "report", "app", "demo"):
        assert command in result.stdout


@pytest.mark.usefixtures("prefect_harness")
def test_crawl_refused_by_the_endpoint_exits_non_zero_with_a_readable_reason(tmp_path):
    write_jsonl_gz(tmp_path / "corpus" / "models-00.jsonl.gz", [tiny_model("org/a", created="2024-01-01T00:00:00Z")])
    with LocalHub(tmp_path / "corpus") as hub:
        # A path prefix the server does not know: every listing request answers 404.
        result = run_hubgenome(
            "--data-dir", str(tmp_path / "data"), "crawl", "--endpoint", f"{hub.url}/not-a-hub", "--no-cards"
        )
    assert result.returncode == 1
    assert "error:" in result.stderr and "HTTP 404" in result.stderr
    assert "Traceback" not in result.stderr.split("error:")[-1]


def test_build_without_a_landing_says_what_to_do(tmp_path):
    result = run_hubgenome("--data-dir", str(tmp_path), "build")
    assert result.returncode == 1
    assert "run `hubgenome crawl`" in result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_audit_exits_non_zero_when_a_public_model_is_missing(tmp_path):
    import datetime as dt

    from hubgenome.local_hub.server import HubEvent
    from prefect.settings import PREFECT_API_URL

    models = [tiny_model(f"org/m{i}", created=f"2024-01-0{i + 1}T00:00:00Z") for i in range(3)]
    write_jsonl_gz(tmp_path / "corpus" / "models-00.jsonl.gz", models)
    data = ["--data-dir", str(tmp_path / "data")]
    env = {"PREFECT_API_URL": PREFECT_API_URL.value() or ""}
    with LocalHub(tmp_path / "corpus") as hub:
        endpoint = ["--endpoint", hub.url]
        assert run_hubgenome(*data, "crawl", *endpoint, "--no-cards", env_extra=env).returncode == 0
        no_sweep = run_hubgenome(*data, "audit", *endpoint, env_extra=env)
        assert no_sweep.returncode == 2 and "hubgenome audit --fresh" in no_sweep.stderr
        complete = run_hubgenome(*data, "audit", *endpoint, "--fresh", env_extra=env)
        assert complete.returncode == 0, complete.stderr
        # A private repo made public keeps its old dates: only a sweep sees it, and nothing landed it yet.
        hub.schedule([HubEvent(hub.clock.now() - dt.timedelta(days=30), "create", "org/launched")])
        hub.apply_due_events()
        incomplete = run_hubgenome(*data, "audit", *endpoint, "--fresh", env_extra=env)
    assert incomplete.returncode == 1
    assert "1 public models missing" in incomplete.stderr
    assert "org/launched" in incomplete.stdout

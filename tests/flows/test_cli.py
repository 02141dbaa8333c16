"""The ``hubgenome`` command: every registered command listed and documented, known failures without a traceback."""

from __future__ import annotations

import os
import re

import click
import pytest
import typer.main
from click.testing import CliRunner

from hubgenome.cli import app
from hubgenome.core.errors import HubgenomeError
from hubgenome.local_hub.server import LocalHub
from tests.support.cli import run_hubgenome
from tests.support.corpus_files import tiny_model, write_jsonl_gz


def _registered_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every command registered on ``group``, the commands of its subgroups included."""
    paths: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += _registered_commands(command, (*prefix, name))
    return paths


ROOT_COMMAND = typer.main.get_command(app)
#: Read from the typer app itself, so a command added later is covered without touching this file.
COMMANDS = _registered_commands(ROOT_COMMAND)


def _command(path: tuple[str, ...]) -> click.Command:
    command = ROOT_COMMAND
    for name in path:
        command = command.commands[name]
    return command


def test_help_lists_every_registered_command():
    assert {("serve-hub",), ("crawl",), ("build",), ("report",), ("app",), ("demo",)} <= set(COMMANDS)
    result = run_hubgenome("--help")
    assert result.returncode == 0
    for path in COMMANDS:
        if len(path) == 1 and not _command(path).hidden:
            assert re.search(rf"^\W*{re.escape(path[0])}\s", result.stdout, re.MULTILINE), path


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]):
    command, shown = _command(path), " ".join(("hubgenome", *path))
    assert command.help and command.help.strip(), f"`{shown}` has no help: give its function a docstring"
    undocumented = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert not undocumented, f"`{shown}` options without help: {undocumented}"
    result = CliRunner().invoke(command, ["--help"], prog_name=shown)
    assert result.exit_code == 0, result.output
    summary = " ".join(command.help.split("\n\n")[0].split())
    assert summary in " ".join(result.output.split())


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

    from prefect.settings import PREFECT_API_URL

    from hubgenome.local_hub.server import HubEvent

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


def test_commands_get_the_data_dir_from_the_context_not_the_environment(tmp_path, monkeypatch):
    """``--data-dir`` reaches a command through typer's context; the process environment is left alone."""
    from_env = tmp_path / "from-env"
    monkeypatch.setenv("HUBGENOME_DATA_DIR", str(from_env))
    chosen = tmp_path / "chosen"
    result = CliRunner().invoke(ROOT_COMMAND, ["--data-dir", str(chosen), "report"])
    assert isinstance(result.exception, HubgenomeError)
    assert str(chosen.resolve() / "warehouse.duckdb") in str(result.exception)
    assert os.environ["HUBGENOME_DATA_DIR"] == str(from_env)
    # Without --data-dir, HUBGENOME_DATA_DIR is still how a user chooses it.
    fallback = CliRunner().invoke(ROOT_COMMAND, ["report"])
    assert str(from_env.resolve() / "warehouse.duckdb") in str(fallback.exception)

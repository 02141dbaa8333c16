"""``hubgenome.app.launch``: the command line and environment of the dashboard server."""

from __future__ import annotations

import sys

from streamlit.web.cli import main_run

from hubgenome.app import launch


def test_command_runs_streamlit_headless_without_telemetry():
    cmd = launch.command(8765)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[4].endswith("app/streamlit_app.py")
    options = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert options["--server.port"] == "8765"
    assert options["--server.headless"] == "true"
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.address"] == "127.0.0.1"


def test_command_hides_the_developer_toolbar_wherever_it_starts():
    """Deploy, Rerun and Clear cache are hidden by a flag of the command itself, not a config file.

    Streamlit reads ``.streamlit/config.toml`` from the working directory only, so an installed
    wheel started elsewhere would show them; the command is parsed here as ``streamlit run`` parses it.
    """
    cmd = launch.command(8765)
    parsed = main_run.make_context("run", cmd[4:]).params
    assert parsed["client_toolbarMode"] == "viewer"
    assert parsed["target"] == str(launch.APP_SCRIPT)


def test_environment_carries_the_data_dir(tmp_path):
    env = launch.environment(tmp_path)
    assert env["HUBGENOME_DATA_DIR"] == str(tmp_path.resolve())


def test_launch_waits_for_the_server(monkeypatch, tmp_path):
    started = {}

    class FakeProcess:
        returncode = 0

        def __init__(self, cmd, env):
            started.update(cmd=cmd, env=env)

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(launch.subprocess, "Popen", FakeProcess)
    launch.launch(tmp_path, port=8123)
    assert "8123" in started["cmd"] and started["env"]["HUBGENOME_DATA_DIR"] == str(tmp_path.resolve())

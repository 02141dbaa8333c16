"""``hubgenome schedule``: serve the nightly pipeline as a Prefect deployment on a cron.

Prefect 3 cannot schedule on its ephemeral API (``flow.serve(cron=...)`` then only logs "Cannot
schedule flows on an ephemeral server"), so unless ``PREFECT_API_URL`` names a server, this
module starts one: ``prefect server start`` as a child process on a free local port, with its
SQLite database under ``<data dir>/prefect`` and telemetry off, waits for its health check, serves
the deployment against it, and stops it (SIGTERM to its process group, then SIGKILL) on the way
out, Ctrl-C and SIGTERM included. Users with their own server and workers use ``prefect.yaml``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from hubgenome.core.errors import ConfigurationError, HubgenomeError

DEFAULT_CRON = "0 3 * * *"
DEPLOYMENT_NAME = "nightly"


class PrefectServerError(HubgenomeError):
    """The local Prefect server did not start."""


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _prefect_executable() -> str:
    beside = Path(sys.executable).with_name("prefect")
    found = str(beside) if beside.exists() else shutil.which("prefect")
    if not found:
        msg = "The `prefect` command is not installed in this environment: `pip install prefect`."
        raise ConfigurationError(msg)
    return found


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def local_prefect_server(data_dir: Path, *, startup_timeout: float = 180.0) -> Iterator[str]:
    """Yield the API URL of a Prefect server: ``PREFECT_API_URL`` if set, else a local one started here.

    The local server keeps its SQLite database under ``<data dir>/prefect``, listens on a free
    port of 127.0.0.1, sends no telemetry, and is stopped when the block exits.
    """
    existing = os.environ.get("PREFECT_API_URL")
    if existing:
        print(f"Using the Prefect server at {existing} (PREFECT_API_URL)")
        yield existing
        return
    home = Path(data_dir) / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = home / "server.log"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "false"),
    }
    env.pop("PREFECT_API_URL", None)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [_prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped as a whole, spared our Ctrl-C
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not _healthy(api_url):
            if process.poll() is not None:
                msg = f"The local Prefect server exited with code {process.returncode}:\n{_tail(log_path)}"
                raise PrefectServerError(msg)
            if time.monotonic() > deadline:
                msg = (
                    f"The local Prefect server did not answer {api_url}/health within {startup_timeout:.0f} s "
                    f"(log: {log_path}). Start one yourself and set PREFECT_API_URL."
                )
                raise PrefectServerError(msg)
            time.sleep(0.5)
        print(f"Prefect server on {api_url} (pid {process.pid}, database under {home}, log {log_path})", flush=True)
        yield api_url
    finally:
        _stop(process)
        print("Prefect server stopped", flush=True)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (systemd, docker stop, kill) into KeyboardInterrupt so every ``finally`` runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _restored(name: str, value: str | None) -> Iterator[None]:
    try:
        yield
    finally:
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def serve_pipeline(
    *,
    data_dir: Path,
    cron: str = DEFAULT_CRON,
    timezone: str = "UTC",
    interval_seconds: float | None = None,
    endpoint: str | None = None,
    id_sweep: str = "auto",
    name: str = DEPLOYMENT_NAME,
) -> None:
    """Serve the ``nightly-pipeline`` flow as deployment ``name`` on ``cron`` in ``timezone`` until interrupted.

    ``interval_seconds`` replaces the cron (for trying the schedule out). At most one run of the
    deployment goes at a time, and the pipeline's own lock guards against runs from elsewhere.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"Unknown time zone {timezone!r}: use an IANA name such as UTC or Europe/Paris."
        raise ConfigurationError(msg) from exc
    with _sigterm_as_interrupt(), local_prefect_server(data_dir) as api_url:
        from prefect.deployments.runner import EntrypointType
        from prefect.schedules import Cron, Interval
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from hubgenome.flows.pipeline import pipeline_flow

        if interval_seconds is not None:
            schedule = Interval(dt.timedelta(seconds=interval_seconds), timezone=timezone)
            when = f"every {interval_seconds:g} s"
        else:
            schedule = Cron(cron, timezone=timezone)
            when = f"on cron {cron!r} ({timezone})"
        print(f"Serving nightly-pipeline/{name} {when}; Ctrl-C to stop", flush=True)
        # Settings for this process, environment for the flow-run processes the runner starts.
        saved = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = api_url
        with (
            temporary_settings(updates={PREFECT_API_URL: api_url}),
            contextlib.suppress(KeyboardInterrupt),
            _restored("PREFECT_API_URL", saved),
        ):
            pipeline_flow.serve(
                name=name,
                schedule=schedule,
                parameters={"endpoint": endpoint, "data_dir": str(data_dir), "id_sweep": id_sweep},
                limit=1,
                entrypoint_type=EntrypointType.MODULE_PATH,
                print_starting_message=True,
            )

"""Start the dashboard: what ``hubgenome app`` (and the end of ``make demo``) calls.

The server runs as a child process (``python -m streamlit run app/streamlit_app.py``) so that the
CLI's own imports, Prefect settings and signal handling stay out of Streamlit's way; the data
directory travels in ``HUBGENOME_DATA_DIR``. Usage statistics are off, the server binds to
localhost only, and the toolbar shows viewers' options only (no Deploy, Rerun or Clear cache).
Every setting is a command-line flag, so it holds for an installed wheel started from any folder
(a ``.streamlit/config.toml`` is read from the working directory only).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hubgenome.core.paths import resolve_data_dir

APP_SCRIPT = Path(__file__).resolve().with_name("streamlit_app.py")
#: Streamlit's ``client.toolbarMode``: the toolbar and menu without the developer options.
TOOLBAR_MODE = "viewer"


def command(port: int = 8501, headless: bool = True, address: str = "127.0.0.1") -> list[str]:
    """The ``streamlit run`` command line :func:`launch` executes.

    Examples
    --------
    >>> command(8600)[:4] == [sys.executable, "-m", "streamlit", "run"]
    True
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_SCRIPT),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        # "viewer": a dashboard user has no use for Deploy (publish to Streamlit Community Cloud),
        # Rerun or Clear cache; print, screencast and the theme settings stay in the menu.
        "--client.toolbarMode",
        TOOLBAR_MODE,
    ]


def environment(data_dir: Path | None = None) -> dict[str, str]:
    """The child's environment: ours plus ``HUBGENOME_DATA_DIR`` and Streamlit's telemetry off."""
    env = dict(os.environ)
    env["HUBGENOME_DATA_DIR"] = str(resolve_data_dir(data_dir))
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def launch(data_dir: Path | None = None, port: int = 8501, headless: bool = True) -> None:
    """Run the dashboard on ``http://127.0.0.1:<port>`` until interrupted (Ctrl-C).

    Parameters
    ----------
    data_dir
        Data directory holding ``warehouse.duckdb`` (default: ``HUBGENOME_DATA_DIR`` or ``./data``).
        A missing warehouse is fine: the pages say how to build one and pick it up once published.
    port
        TCP port.
    headless
        Do not open a browser window.

    Examples
    --------
    >>> launch(Path("data"), port=8501)  # doctest: +SKIP
    """
    process = subprocess.Popen(command(port, headless), env=environment(data_dir))
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
    if process.returncode not in (0, -15, None):
        msg = f"The dashboard exited with status {process.returncode}; see the messages above."
        raise SystemExit(msg)

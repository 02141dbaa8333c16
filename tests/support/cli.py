"""Running the ``hubgenome`` command in a process of its own, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys


def run_hubgenome(
    *args: str, env_extra: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``hubgenome ARGS...`` (``python -m hubgenome.cli``) with ``CI=true``; its exit code and captured output."""
    env = dict(os.environ, CI="true", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "hubgenome.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )

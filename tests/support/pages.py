"""Running one dashboard page with Streamlit's ``AppTest``, and reading what it shows.

The page scripts come from the installed ``hubgenome.app`` package, never from a checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import hubgenome.app

PAGES_DIR = Path(hubgenome.app.__file__).parent / "pages"
PAGES = [
    "overview",
    "model_lookup",
    "family_explorer",
    "drift",
    "similarity",
    "licences",
    "safety",
    "sql_console",
]


def run_page(
    page: str,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    query_params: dict[str, str] | None = None,
    session_state: dict[str, object] | None = None,
    timeout: float = 60,
) -> AppTest:
    """Run one page script with AppTest against the warehouse in ``data_dir``."""
    monkeypatch.setenv("HUBGENOME_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(PAGES_DIR / f"{page}.py"), default_timeout=timeout)
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    for key, value in (session_state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """Each metric's label and the value it shows."""
    return {metric.label: metric.value for metric in at.metric}


def texts(at: AppTest) -> str:
    """Everything written as markdown, captions, info/warning/error and code, joined (for substring checks)."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "code", "header", "subheader", "title"):
        parts.extend(str(element.value) for element in at.get(kind))
    return "\n".join(parts)

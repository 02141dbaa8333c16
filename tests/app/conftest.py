"""Fixtures for the dashboard tests: warehouses built once per session, and a page runner.

* ``demo_app`` – the synthetic demo ecosystem (3,000 models, its ground-truth manifest), built with
  the analytics step, so every analytics-backed panel has data;
* ``trees_app`` – the real ``trees-2025-04`` corpus built WITHOUT the analytics step, so the
  pages' "run `hubgenome build`" fallbacks are exercised on real data (skips when the corpus is absent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import corpus_path

PAGES_DIR = Path(__file__).resolve().parents[2] / "app" / "pages"
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


@dataclass(frozen=True)
class BuiltWarehouse:
    data_dir: Path
    manifest: object | None = None

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"


def _build(data_dir: Path, corpus: Path, *, with_analytics: bool) -> None:
    from flows.build import build_warehouse
    from flows.corpus_import import import_corpus

    raw = data_dir / "raw.duckdb"
    import_corpus(corpus, raw)
    hook = None
    if with_analytics:
        from analytics.flow import analytics_before_publish

        hook = analytics_before_publish
    build_warehouse(data_dir, raw_db=raw, warehouse=data_dir / "warehouse.duckdb", before_publish=hook)


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    from flows.demo import generate_corpus

    data_dir = tmp_path_factory.mktemp("app-demo")
    manifest = generate_corpus(data_dir / "corpus", n_models=3000, seed=20250712)
    _build(data_dir, data_dir / "corpus", with_analytics=True)
    return BuiltWarehouse(data_dir, manifest)


@pytest.fixture(scope="session")
def trees_app(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    corpus = corpus_path("trees-2025-04")
    data_dir = tmp_path_factory.mktemp("app-trees")
    _build(data_dir, corpus, with_analytics=False)
    return BuiltWarehouse(data_dir)


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
    return {metric.label: metric.value for metric in at.metric}


def texts(at: AppTest) -> str:
    """Everything written as markdown, captions, info/warning/error and code, joined (for substring checks)."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "code", "header", "subheader", "title"):
        parts.extend(str(element.value) for element in at.get(kind))
    return "\n".join(parts)

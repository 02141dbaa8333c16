"""Fixtures for the dashboard tests: warehouses built once per session, and a page runner.

* ``demo_app`` – the synthetic demo ecosystem (3,000 models, its ground-truth manifest), built with
  the analytics step, so every analytics-backed panel has data;
* ``trees_app`` – the real ``trees-2025-04`` corpus built WITHOUT the analytics step, so the
  pages' "run `hubgenome build`" fallbacks are exercised on real data (skips when the corpus is absent);
* ``nights_app`` – four nightly pipeline runs against a local Hub whose generated corpus changes
  (night 3 fails: the Hub is down), a day apart on a simulated clock, so the history marts
  (runs, daily counters, family series, lifecycle) have several days; with what the Hub said each night.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import corpus_path
from tests.night_clock import NightClock

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


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Put back ``sys.modules["__main__"]`` after each app test.

    Streamlit's script runner installs the page it runs as ``__main__`` and leaves it there; a
    later test that spawns processes (the Dask cluster's workers) would then have every child
    re-run that page as its main module, and fail to start.
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def _build(data_dir: Path, corpus: Path, *, with_analytics: bool) -> None:
    from hubgenome.flows.build import build_warehouse
    from hubgenome.flows.corpus_import import import_corpus

    raw = data_dir / "raw.duckdb"
    import_corpus(corpus, raw)
    hook = None
    if with_analytics:
        from hubgenome.flows.analytics_stage import analytics_before_publish

        hook = analytics_before_publish
    build_warehouse(data_dir, raw_db=raw, warehouse=data_dir / "warehouse.duckdb", before_publish=hook)


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    from hubgenome.local_hub.demo import generate_corpus

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


@dataclass(frozen=True)
class Nights:
    """A warehouse after several pipeline nights, and what the Hub said on each night."""

    data_dir: Path
    dates: list[dt.date]
    summaries: list  # PipelineSummary per night, failed ones included
    #: per night: model id -> (downloads, downloadsAllTime, likes) the Hub listed; empty when the Hub was down
    counters: list[dict[str, tuple[int, int, int]]]
    evolutions: list = field(default_factory=list)  # EvolutionManifest before nights 2 and 4

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"


@pytest.fixture(scope="session")
def nights_app(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> Nights:
    from hubgenome.flows import landing
    from hubgenome.flows.pipeline import PipelineFailedError, run_pipeline
    from hubgenome.local_hub.demo import generate_corpus
    from hubgenome.local_hub.demo.synthetic import evolve_corpus
    from hubgenome.local_hub.server import LocalHub

    from tests.flows.crawl_helpers import corpus_models, fast_client

    root = tmp_path_factory.mktemp("app-nights")
    corpus, data_dir = root / "corpus", root / "data"
    generate_corpus(corpus, n_models=300, seed=7)
    clock = NightClock()
    dates, summaries, counters, evolutions = [], [], [], []

    def night(endpoint: str, *, hub_up: bool) -> None:
        dates.append(clock.date)
        counters.append(
            {m["id"]: (m["downloads"], m["downloadsAllTime"], m["likes"]) for m in corpus_models(corpus)}
            if hub_up
            else {}
        )
        try:
            summaries.append(
                run_pipeline(
                    endpoint=endpoint,
                    data_dir=data_dir,
                    client=fast_client(endpoint, max_retries=1),
                    id_sweep="always",
                    analytics=False,
                    show_progress=False,
                    task_retries=0,
                )
            )
        except PipelineFailedError as failure:
            summaries.append(failure.summary)
        clock.next_night()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(landing, "utcnow", clock)
        with LocalHub(corpus) as hub:
            endpoint, port = hub.url, hub.port
            night(endpoint, hub_up=True)
            evolutions.append(evolve_corpus(corpus, seed=1, added=8, modified=8, deleted=4, counters_changed=30))
            hub.reload()
            night(endpoint, hub_up=True)
        night(endpoint, hub_up=False)  # the Hub is down: the crawl stage fails, nothing is built
        evolutions.append(evolve_corpus(corpus, seed=2, added=8, modified=8, deleted=4, counters_changed=30))
        with LocalHub(corpus, port=port) as hub:
            night(endpoint, hub_up=True)
    assert [summary.state for summary in summaries] == ["succeeded", "succeeded", "failed", "succeeded"]
    return Nights(data_dir, dates, summaries, counters, evolutions)


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

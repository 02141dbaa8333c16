"""Fixtures for the dashboard tests: warehouses built once per session (the page runner is tests.support.pages).

* ``demo_app`` – the synthetic demo ecosystem (3,000 models, its ground-truth manifest), built with
  the analytics step, so every analytics-backed panel has data;
* ``trees_app`` – the real ``trees-2025-04`` corpus, built with the analytics step like every
  published warehouse, so every page runs on real data (skips when the corpus is absent);
* ``nights_app`` – four nightly pipeline runs against a local Hub whose generated corpus changes
  (night 3 fails: the Hub is down), a day apart on a simulated clock, so the history marts
  (runs, daily counters, family series, lifecycle) have several days; with what the Hub said each night.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.corpus_files import corpus_models
from tests.support.crawling import fast_client
from tests.support.night_clock import NightClock
from tests.support.shared_data import corpus_path
from tests.support.warehouses import BuiltWarehouse, Nights, build_from_corpus


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


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    from hubgenome.local_hub.demo import generate_corpus

    data_dir = tmp_path_factory.mktemp("app-demo")
    manifest = generate_corpus(data_dir / "corpus", n_models=3000, seed=20250712)
    build_from_corpus(data_dir, data_dir / "corpus", with_analytics=True)
    return BuiltWarehouse(data_dir, manifest)


@pytest.fixture(scope="session")
def trees_app(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    corpus = corpus_path("trees-2025-04")
    data_dir = tmp_path_factory.mktemp("app-trees")
    build_from_corpus(data_dir, corpus, with_analytics=True)
    return BuiltWarehouse(data_dir)


@pytest.fixture(scope="session")
def nights_app(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> Nights:
    from hubgenome.flows import landing
    from hubgenome.flows.options import BuildOptions, PipelineOptions
    from hubgenome.flows.pipeline import PipelineFailedError, run_pipeline
    from hubgenome.local_hub.demo import generate_corpus
    from hubgenome.local_hub.demo.synthetic import evolve_corpus
    from hubgenome.local_hub.server import LocalHub

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
                    client=fast_client(endpoint, max_retries=1),
                    data_dir=data_dir,
                    options=PipelineOptions(id_sweep="always", build=BuildOptions(analytics=False)),
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

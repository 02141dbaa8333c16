"""The Safety page with per-model evaluations the user imported into their data directory."""

from __future__ import annotations

import pytest

from hubgenome.flows.build import build_and_publish
from hubgenome.flows.options import BuildOptions
from hubgenome.flows.safety_import import import_safety_evaluations
from tests.support.landings import land_crawl, tiny_models
from tests.support.pages import metrics, run_page, texts

EVALUATIONS = """model_id,method,attack_or_benchmark,metric,value,source,unit,evaluated_on
org/base,none,PAIR,attack_success_rate,62,https://example.org/run-1,percent,2024-03-28
org/base,none,GCG,attack_success_rate,3,https://example.org/run-1,percent,2024-03-28
a/ft,none,PAIR,attack_success_rate,91,https://example.org/run-2,percent,
not-crawled/model,none,PAIR,attack_success_rate,50,https://example.org/run-3,,
"""


@pytest.fixture(scope="module")
def evaluated_data_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("safety-data")
    raw_db = data_dir / "raw.duckdb"
    land_crawl(raw_db, tiny_models())
    evaluations = data_dir / "my-evaluations.csv"
    evaluations.write_text(EVALUATIONS, encoding="utf-8")
    import_safety_evaluations(raw_db, evaluations)
    build_and_publish(data_dir, BuildOptions(analytics=True), raw_db=raw_db, warehouse=data_dir / "warehouse.duckdb")
    return data_dir


def test_imported_evaluations_are_counted_and_listed(evaluated_data_dir, monkeypatch):
    at = run_page("safety", evaluated_data_dir, monkeypatch)

    shown = metrics(at)
    assert shown["Evaluation rows"] == "4"
    assert shown["Evaluated models"] == "3"
    assert "No per-model safety evaluation exists" not in texts(at)
    listed = {frame.value.shape[0] for frame in at.dataframe}
    assert 4 in listed

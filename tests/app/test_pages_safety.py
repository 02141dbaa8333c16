"""The Safety page, Model lookup and Family explorer on safety evidence: the user's imports beside the
bundled reference set (a tiny ecosystem), and the family safety view on the hub-2024-07 slice around
Llama-2-7b-chat-hf (expected figures read from the reference files with the csv module)."""

from __future__ import annotations

import csv

import pytest

from hubgenome.flows.build import build_and_publish
from hubgenome.flows.options import BuildOptions
from hubgenome.flows.safety_import import import_safety_evaluations
from tests.support.landings import land_crawl, tiny_models
from tests.support.pages import metrics, run_page, texts
from tests.support.safety import LLAMA, VICUNA, reference_rows
from tests.support.shared_data import reference_path
from tests.support.warehouses import query

EVALUATIONS = """model_id,method,attack_or_benchmark,metric,value,source,unit,evaluated_on
org/base,none,PAIR,attack_success_rate,62,https://example.org/run-1,percent,2024-03-28
org/base,none,GCG,attack_success_rate,3,https://example.org/run-1,percent,2024-03-28
a/ft,none,PAIR,attack_success_rate,91,https://example.org/run-2,percent,
not-crawled/model,none,PAIR,attack_success_rate,50,https://example.org/run-3,,
"""
BUNDLED = "bundled reference (JailbreakBench 2024)"


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


def _nest_fine_tuned_asr() -> str:
    """NeST's mean ASR on downstream fine-tuned variants before repair, as printed in nest-2026.csv."""
    with reference_path("nest-2026.csv").open(newline="", encoding="utf-8") as handle:
        (value,) = [
            row["value"]
            for row in csv.DictReader(handle)
            if "fine-tuned" in row["population"] and row["method"] == "no defense"
        ]
    return value


def test_imported_evaluations_are_listed_apart_from_the_bundled_set(evaluated_data_dir, monkeypatch):
    at = run_page("safety", evaluated_data_dir, monkeypatch)

    shown, written = metrics(at), texts(at)
    bundled = len(reference_rows(reference_path("jailbreakbench-2024.csv")))
    assert shown["Evaluation rows"] == str(4 + bundled)
    assert shown["Evaluated models in this warehouse"] == "2"  # org/base, a/ft; not-crawled/model is not
    assert "**user import** · 4 rows, 3 models" in written
    assert f"**{BUNDLED}** ·" in written
    assert "gpt-4-0125-preview" in written  # a closed model, listed by name
    assert "No model in this warehouse has a per-model safety evaluation" not in written
    assert {frame.value.shape[0] for frame in at.dataframe} >= {4, bundled}


def test_a_descendant_points_to_its_evaluated_parent_without_a_score(evaluated_data_dir, monkeypatch):
    at = run_page("model_lookup", evaluated_data_dir, monkeypatch, query_params={"model": "a/q"})

    written = texts(at)
    assert "a/q inherits from a/ft (ASR 91 % across one attack, undated), 1 quantization away" in written
    assert f"{_nest_fine_tuned_asr()} %" in written
    assert "not this model's" in written


def test_safety_page_ranks_llama_descendants_by_downloads(safety_slice, monkeypatch):
    data_dir, _ = safety_slice
    at = run_page("safety", data_dir, monkeypatch)

    written = texts(at)
    assert metrics(at)["Evaluated models in this warehouse"] == "2"
    assert f"{_nest_fine_tuned_asr()} % on downstream fine-tuned variants before repair" in written
    assert "No score is estimated, copied or averaged" in written
    assert at.selectbox(key="safety_ancestor").value == LLAMA  # the most downloads below it
    reference = [row for row in reference_rows(reference_path("jailbreakbench-2024.csv")) if row["model_id"] == LLAMA]
    own = next(
        frame.value for frame in at.dataframe if {"attack_or_benchmark", "evidence_label"} <= set(frame.value.columns)
    )
    assert sorted(zip(own["attack_or_benchmark"], own["value"], strict=True)) == sorted(
        (row["method"], float(row["value"])) for row in reference
    )
    ranked = next(frame.value for frame in at.dataframe if "relation_path" in frame.value.columns)
    expected = query(
        data_dir / "warehouse.duckdb",
        "select model_id, evaluated_ancestor_distance, relation_path from fct_family_safety "
        "where nearest_evaluated_model_id = ? and has_evaluated_ancestor "
        "order by downloads desc, model_id limit 100",
        [LLAMA],
    )
    assert list(zip(ranked["model_id"], ranked["distance"], ranked["relation_path"], strict=True)) == expected
    assert ranked["downloads"].to_list() == sorted(ranked["downloads"].to_list(), reverse=True)

    at.selectbox(key="safety_ancestor").set_value(VICUNA).run()
    assert not at.exception
    ranked = next(frame.value for frame in at.dataframe if "relation_path" in frame.value.columns)
    assert set(ranked["model_id"]) == {
        model_id
        for (model_id,) in query(
            data_dir / "warehouse.duckdb",
            "select model_id from fct_family_safety where nearest_evaluated_model_id = ? and has_evaluated_ancestor",
            [VICUNA],
        )
    }


def test_model_lookup_says_what_a_llama_grandchild_inherits(safety_slice, monkeypatch):
    data_dir, _ = safety_slice
    (grandchild,) = query(
        data_dir / "warehouse.duckdb",
        "select model_id from fct_family_safety where nearest_evaluated_model_id = ? "
        "and relation_path = 'finetune > finetune' order by downloads desc, model_id limit 1",
        [LLAMA],
    )[0]
    reference = [row for row in reference_rows(reference_path("jailbreakbench-2024.csv")) if row["model_id"] == LLAMA]
    values = [float(row["value"]) for row in reference]
    years = {row["evaluation_date"][:4] for row in reference}
    (year,) = years
    at = run_page("model_lookup", data_dir, monkeypatch, query_params={"model": grandchild})
    assert (
        f"{grandchild} inherits from {LLAMA} (ASR {min(values):g}–{max(values):g} % across five attacks, {year}), "
        "2 fine-tunes away"
    ) in texts(at)

    at = run_page("model_lookup", data_dir, monkeypatch, query_params={"model": LLAMA})
    assert f"**Evaluated**: ASR {min(values):g}–{max(values):g} % across five attacks, {year} ({BUNDLED})" in texts(at)


def test_family_explorer_shows_evaluated_members_and_coverage(safety_slice, monkeypatch):
    data_dir, _ = safety_slice
    at = run_page("family_explorer", data_dir, monkeypatch, query_params={"family": LLAMA})

    ((members, below, neither),) = query(
        data_dir / "warehouse.duckdb",
        "select count(*) filter (where is_evaluated), count(*) filter (where has_evaluated_ancestor), "
        "count(*) filter (where not is_evaluated and not has_evaluated_ancestor) "
        "from fct_family_safety where family_id = ?",
        [LLAMA],
    )
    shown = metrics(at)
    assert (members, shown["Evaluated members"]) == (1, "1")
    assert shown["Below an evaluated member"] == f"{below:,}"
    assert shown["Neither"] == f"{neither:,}"
    assert f"**{LLAMA}**: ASR" in texts(at)
    assert any("nearest_evaluated_model_id" in frame.value.columns for frame in at.dataframe)

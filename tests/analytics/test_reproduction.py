"""The reproduction table: metric mapping, not-computable rows, readings and direction checks."""

from __future__ import annotations

import polars as pl
import pytest

from hubgenome.analytics import drift, lineage, reproduction
from tests.support.shared_data import reference_path

MODELS = pl.DataFrame(
    {
        "model_id": ["google/gemma-2b", "a", "b", "c"],
        "license_ids": [["gemma"], ["apache-2.0"], ["apache-2.0", "mit"], []],
        "language_codes": [["en", "fr"], ["en"], [], ["de"]],
        "pipeline_tag": ["text-generation", "text-generation", None, "fill-mask"],
        "library_name": ["transformers", "peft", "transformers", None],
        "has_card": [True, True, False, True],
    }
)
EDGES = pl.DataFrame(
    {
        "parent_model_id": ["google/gemma-2b", "google/gemma-2b", "a"],
        "child_model_id": ["a", "b", "c"],
        "relation": ["finetune", "adapter", "finetune"],
        "has_typed_tag": [True, True, False],
    }
)


def _ours() -> pl.DataFrame:
    return reproduction.our_metrics(
        corpus="toy",
        as_of="2024-07-11",
        models=MODELS,
        edges=EDGES,
        weak_components=1,
        top_parents=lineage.top_parents(EDGES),
        children_with_children=lineage.children_with_children(EDGES),
        language_drift=drift.language_count_drift(EDGES, MODELS),
        mutation_rates=drift.mutation_rates(EDGES, MODELS, ["license_ids", "language_codes"]),
    )


def test_our_metrics_maps_results_to_paper_names():
    values = dict(_ours().select("metric", "value").iter_rows())
    assert values["models_in_snapshot"] == 4
    assert values["license_share_apache_2_0"] == 0.5  # 2 of all 4 models
    assert values["task_share_text_generation"] == pytest.approx(2 / 3)  # of the 3 with a task
    assert values["language_share_english"] == pytest.approx(2 / 3)
    assert values["library_share_peft"] == pytest.approx(1 / 3)
    assert values["share_models_with_card"] == 0.75
    assert values["edges_finetune"] == 1 and values["edges_adapter"] == 1 and values["edges_untyped"] == 1
    assert values["top_fanout_gemma_2b"] == 2
    assert values["share_finetune_children_with_children"] == 0.5  # a has a child, c does not
    assert values["languages_parent_mean"] == 1.5 and values["languages_child_mean"] == 1.0
    assert values["mutation_rate_license"] == 1.0  # gemma → apache-2.0, gemma → apache-2.0 + mit
    assert values["mutation_rate_language"] == 0.75  # {en, fr} → {en}: 0.5; {en} → {de}: 1


def test_reproduction_table_marks_what_cannot_be_computed():
    paper = pl.read_csv(reference_path("anatomy-2025-07.csv"))
    table = reproduction.reproduction_table(paper, _ours(), {"eligible_cards_512": "the corpus has no cards"})
    assert table["metric"].to_list() == paper["metric"].to_list()  # every paper metric, paper order
    by_metric = {row["metric"]: row for row in table.iter_rows(named=True)}
    assert by_metric["eligible_cards_512"]["status"] == "not computable"
    assert by_metric["eligible_cards_512"]["reading"] == "the corpus has no cards"
    assert by_metric["eligible_cards_512"]["our_value"] is None
    models_row = by_metric["models_in_snapshot"]
    assert models_row["status"] == "computed" and models_row["our_value"] == 4
    assert "of the paper's count" in models_row["reading"]
    assert "above the paper" in by_metric["mutation_rate_license"]["reading"]


def test_direction_checks():
    ours = pl.DataFrame(
        {
            "metric": ["languages_child_mean", "languages_parent_mean", "similarity_card_tfidf_parent_child",
                       "similarity_card_tfidf_siblings"],
            "value": [1.8, 6.6, 0.6, 0.5],
        }
    )  # fmt: skip
    checks = {row[0]: row for row in reproduction.direction_checks(ours).iter_rows()}
    assert checks["languages shrink from parent to child"][1] is True
    assert checks["cards: siblings above parent–child (TF-IDF)"][1] is False
    assert checks["cards shorten from parent to child"][1] is None
    assert "missing" in checks["cards shorten from parent to child"][2]


def test_license_flow_direction():
    counts = pl.DataFrame(
        {"source": ["llama3", "apache-2.0", "mit", "gemma"], "target": ["apache-2.0", "llama3", "apache-2.0", "mit"],
         "n_transitions": [6, 2, 5, 2]}
    )  # fmt: skip
    taxonomy = pl.DataFrame(
        {"license_id": ["llama3", "gemma", "apache-2.0", "mit"],
         "license_category": ["commercial_custom", "commercial_custom", "permissive", "permissive"]}
    )  # fmt: skip
    assert reproduction.license_flow_direction(counts, taxonomy).row(0) == (8, 2, 0.8)

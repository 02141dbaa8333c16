"""Family safety evidence on a hand-built family with known downloads and evaluations."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from hubgenome.analytics import safety

# base → ft1 → ft1a (finetune), base → q (quantized) → ftq (finetune), base → ad (adapter); other → o1.
EDGES = pl.DataFrame(
    {
        "parent_model_id": ["base", "ft1", "base", "q", "base", "other"],
        "child_model_id": ["ft1", "ft1a", "q", "ftq", "ad", "o1"],
        "relation": ["finetune", "finetune", "quantized", "finetune", "adapter", "finetune"],
    }
)
MODELS = pl.DataFrame(
    {
        "model_id": ["base", "ft1", "ft1a", "q", "ftq", "ad", "other", "o1"],
        "downloads": [100, 50, 30, 10, 5, 5, 7, 3],
    }
)
SCHEMA = {
    "model_id": pl.String, "method": pl.String, "attack_or_benchmark": pl.String,
    "metric": pl.String, "value": pl.Float64, "source": pl.String,
}  # fmt: skip
EVALUATIONS = pl.DataFrame(
    [
        ("base", "no defense", "HarmBench", "attack_success_rate", 44.0, "paper A"),
        ("base", "NeST", "HarmBench", "attack_success_rate", 2.0, "paper A"),
        ("ft1", "no defense", "HarmBench", "attack_success_rate", 60.0, "paper B"),
    ],
    schema=SCHEMA,
    orient="row",
)


def test_no_per_model_rows_means_empty_frames_and_a_status():
    published = pl.DataFrame({"metric": ["attack_success_rate_mean"], "method": ["NeST"], "value": [1.1]})
    evidence = safety.family_safety_evidence(pl.DataFrame(schema=SCHEMA), MODELS, EDGES, published)
    assert evidence.status == safety.NO_EVALUATIONS
    assert evidence.evaluated_members.is_empty() and evidence.families.is_empty()
    assert "value_before" in evidence.evaluated_members.columns  # empty, but with the schema
    # population means pass through, never spread on models
    assert_frame_equal(evidence.published, published, check_exact=True)


def test_evaluated_members_before_and_after():
    evidence = safety.family_safety_evidence(EVALUATIONS, MODELS, EDGES)
    assert evidence.status == "3 per-model evaluation rows for 2 models"
    rows = evidence.evaluated_members.select("family_id", "model_id", "method", "value_before", "value_after").rows()
    assert rows == [("base", "base", "NeST", 44.0, 2.0), ("base", "ft1", None, 60.0, None)]


def test_family_downloads_under_an_evaluated_ancestor():
    evidence = safety.family_safety_evidence(EVALUATIONS, MODELS, EDGES)
    # every member of base's family descends from base: 200 of 200 downloads; "other" has no evaluation
    assert evidence.families.rows() == [("base", 6, 200, 2, 6, 200, 1.0)]
    only_ft1 = EVALUATIONS.filter(pl.col("model_id") == "ft1")
    families = safety.family_safety_evidence(only_ft1, MODELS, EDGES).families
    assert families.row(0) == ("base", 6, 200, 1, 2, 80, pytest.approx(0.4))


def test_report_and_dashboard_word_the_evidence_alike():
    """The report (analytics.safety) and the dashboard (app.safety_evidence) say the same sentences."""
    import datetime as dt

    from hubgenome.app import safety_evidence

    figure = {
        "paper_version": "v2 (2026-06-12)",
        "population": "downstream fine-tuned variants",
        "value": 53.8,
        "unit": "percent",
        "source": "abstract",
    }
    caveat = safety.evidence_caveat(figure)
    assert caveat == safety_evidence.evidence_caveat(figure)
    assert "NeST v2 measured a mean attack success rate of 53.8 % on downstream fine-tuned variants" in caveat
    assert safety.evidence_caveat(None) == safety_evidence.evidence_caveat(None)

    rows = pl.DataFrame(
        {
            "attack_or_benchmark": ["PAIR", "GCG", "GCG", "DSN"],
            "metric": ["attack_success_rate"] * 3 + ["refusal_rate"],
            "value": [0.0, 94.0, 3.0, 50.0],
            "unit": ["percent"] * 4,
            "evaluated_on": [dt.date(2023, 3, 6), dt.date(2024, 10, 14), None, dt.date(2024, 1, 1)],
        }
    )
    summary = {
        "attacks": 2, "asr_min": 0.0, "asr_max": 94.0, "asr_unit": "percent",
        "first_year": 2023, "last_year": 2024, "evaluation_rows": 4,
    }  # fmt: skip
    assert safety.evidence_phrase(rows) == "ASR 0–94 % across two attacks, 2023–2024"
    assert safety_evidence.evidence_phrase(summary) == safety.evidence_phrase(rows)

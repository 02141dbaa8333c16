"""Licence-compliance summaries on a hand-built conflicts frame whose counts are known."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from hubgenome.analytics import licenses

# a (llama3) → b (apache-2.0): LC01 flagged (twice: a has two licences matching); a → c (mit): LC01;
# g (cc-by-nc-4.0) → h (mit): LC04; g → k (no licence): LC07. a → d keeps llama3; g → j changes to cc-by-4.0
# without a flag.
EDGES = pl.DataFrame(
    {
        "parent_model_id": ["a", "a", "a", "g", "g", "g"],
        "child_model_id": ["b", "c", "d", "h", "j", "k"],
        "relation": "finetune",
    }
)
TRAITS = pl.DataFrame(
    {
        "model_id": ["a", "b", "c", "d", "g", "h", "j", "k"],
        "license_ids": [["llama3", "llama3.1"], ["apache-2.0"], ["mit"], ["llama3", "llama3.1"], ["cc-by-nc-4.0"],
                        ["mit"], ["cc-by-4.0"], []],
    }
)  # fmt: skip
CONFLICTS = pl.DataFrame(
    {
        "child_model_id": ["b", "b", "c", "h", "k"],
        "parent_model_id": ["a", "a", "a", "g", "g"],
        "rule_id": ["LC01", "LC01", "LC01", "LC04", "LC07"],
        "severity": ["high", "high", "high", "high", "low"],
    }
)
RULES = pl.DataFrame(
    {
        "rule_id": ["LC01", "LC02", "LC04", "LC07"],
        "severity": ["high", "high", "high", "low"],
        "explanation": ["llama", "gemma", "nc", "missing"],
    }
)


def test_conflicts_by_rule_lists_every_rule():
    table = licenses.conflicts_by_rule(CONFLICTS, RULES)
    assert table.select("rule_id", "n_conflicts", "n_edges", "n_children").rows() == [
        ("LC01", 3, 2, 2),
        ("LC02", 0, 0, 0),
        ("LC04", 1, 1, 1),
        ("LC07", 1, 1, 1),
    ]
    assert table["share_of_edges"].to_list() == [0.5, 0.0, 0.25, 0.25]


def test_conflicts_by_family_and_year():
    families = pl.DataFrame({"model_id": ["b", "c", "h", "k"], "family_id": ["a", "a", "g", "g"]})
    by_family = licenses.conflicts_by_family(CONFLICTS, families)
    assert by_family.rows() == [("a", 3, 2, 2, 1), ("g", 2, 2, 2, 2)]
    assert licenses.conflicts_by_family(CONFLICTS, families, top_n=1).height == 1
    with pytest.raises(ValueError, match="model_families"):
        licenses.conflicts_by_family(CONFLICTS)
    models = pl.DataFrame(
        {"model_id": ["b", "c", "h"], "created_at": [datetime(2023, 5, 1), datetime(2024, 1, 2), datetime(2024, 3, 3)]}
    )
    by_year = licenses.conflicts_by_year(CONFLICTS, models)
    assert by_year.rows() == [(2023, 2, 1, 1), (2024, 2, 2, 2), (None, 1, 1, 1)]
    with pytest.raises(ValueError, match="created_at"):
        licenses.conflicts_by_year(CONFLICTS)


def test_relicensing_violation_share():
    row = licenses.relicensing_violation_share(EDGES, TRAITS, CONFLICTS).row(0, named=True)
    # both licensed: b, c, d, h, j; relicensed (set differs): b, c, h, j; flagged among them: b, c, h
    assert row == {
        "n_edges_both_licensed": 5,
        "n_relicensing_edges": 4,
        "n_relicensing_with_conflict": 3,
        "share_relicensing_with_conflict": 0.75,
        "n_conflict_edges_child_unlicensed": 1,
    }
    none = licenses.relicensing_violation_share(EDGES.head(0), TRAITS, CONFLICTS.head(0)).row(0, named=True)
    assert none["n_relicensing_edges"] == 0 and none["share_relicensing_with_conflict"] is None

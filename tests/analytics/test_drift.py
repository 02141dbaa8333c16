"""Drift analyses: mutation rates, the paper's transition counting, and the exact ordering ILP."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from hubgenome.analytics import drift

EDGES = pl.DataFrame(
    {
        "parent_model_id": ["p", "p", "p", "q", "gone"],
        "child_model_id": ["c1", "c2", "c3", "c4", "c5"],
        "relation": ["finetune", "finetune", "adapter", "finetune", "finetune"],
    }
)
TRAITS = pl.DataFrame(
    {
        "model_id": ["p", "c1", "c2", "c3", "q", "c4", "c5"],
        "languages": [["en", "fr"], ["en", "de"], ["en", "fr"], [], ["zh"], ["en"], ["en"]],
        "task": ["fill-mask", "text-classification", "fill-mask", None, "text-generation", "", "x"],
    }
)


def test_mutation_rates_skip_empty_sides_and_wrap_scalars():
    rates = drift.mutation_rates(EDGES, TRAITS, ["languages", "task"])
    # languages: p→c1: 1 − 1/3; p→c2: 0; q→c4: 1 − 0/2 = 1; p→c3 empty child; c5's parent is missing
    assert rates.row(0) == ("languages", 3, 2, pytest.approx((2 / 3 + 0 + 1) / 3))
    # task: p→c1 changes, p→c2 keeps; c3 null and c4 "" are empty
    assert rates.row(1) == ("task", 2, 1, 0.5)


def test_transition_counts_follow_the_paper_double_counting():
    counts = drift.transition_counts(EDGES, TRAITS, "languages")
    # p{en,fr} → c1{en,de}: de added from en and fr; fr removed toward en and de.
    # q{zh} → c4{en}: en added from zh; zh removed toward en.
    assert counts.rows() == [("en", "de", 1), ("fr", "de", 2), ("fr", "en", 1), ("zh", "en", 2)]
    single = drift.transition_counts(EDGES, TRAITS, "task")
    assert single.rows() == [("fill-mask", "text-classification", 2)]


def test_oriented_transitions_keep_net_direction():
    counts = pl.DataFrame(
        {"source": ["a", "b", "a", "c"], "target": ["b", "a", "c", "a"], "n_transitions": [5, 2, 3, 3]}
    )
    oriented = drift.oriented_transitions(counts)
    assert oriented.rows() == [("a", "b", 3, 7, 5 / 7)]  # a↔c is balanced, so unoriented


def test_top_values_exclude_uninformative():
    traits = pl.DataFrame({"model_id": list("abcde"), "lic": ["other", "other", "mit", "mit", "gpl"]})
    assert drift.top_values(traits, "lic", 2) == ["mit", "gpl"]
    assert drift.top_values(traits, "lic", 2, exclude=()) == ["mit", "other"]


def _brute_force(weights: np.ndarray) -> float:
    n = weights.shape[0]
    best = -np.inf
    for perm in itertools.permutations(range(n)):
        best = max(best, sum(weights[perm[a], perm[b]] for a in range(n) for b in range(a + 1, n)))
    return float(best)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7])
def test_ilp_ordering_equals_brute_force(n):
    rng = np.random.default_rng(n)
    for trial in range(4):
        weights = rng.integers(0, 20, (n, n)).astype(float)
        if trial % 2:
            weights *= rng.random((n, n)) < 0.4  # sparse, with many ties
        np.fill_diagonal(weights, 0)
        order, objective = drift.solve_linear_ordering(weights)
        assert sorted(order) == list(range(n))
        assert objective == pytest.approx(_brute_force(weights))


def test_ilp_recovers_a_planted_order_at_paper_size():
    weights, planted = drift.planted_ordering(20, seed=0)
    order, objective = drift.solve_linear_ordering(weights)  # its speed at this size: bench/analytics.py
    assert order == planted
    assert objective == weights.sum()


def test_trait_ordering_scores_forward_share():
    # a chain of licences flowing llama3 → apache-2.0 → mit, and one backward mit → llama3 transition
    edges = pl.DataFrame(
        {"parent_model_id": ["a", "b", "c", "d"], "child_model_id": ["b", "c", "d", "e"], "relation": "finetune"}
    )
    traits = pl.DataFrame(
        {
            "model_id": list("abcde"),
            "lic": ["llama3", "apache-2.0", "mit", "mit", "llama3"],
        }
    )
    result = drift.trait_ordering(edges, traits, "lic", n=3)
    # raw counts: llama3→apache 2, apache→mit 2, mit→llama3 2 (a 3-cycle): any order keeps 4 of 6
    assert result.total_transitions == 6 and result.forward_transitions == 4
    assert result.forward_share == pytest.approx(4 / 6)
    assert result.compatible_oriented_edges == 2 and result.oriented_edges == 3
    table = drift.orderings_table([result])
    assert table["order"][0].count(" > ") == 2


def test_language_count_and_card_drift_by_relation():
    languages = drift.language_count_drift(EDGES, TRAITS, "languages")
    assert languages.rows() == [("all", 3, 5 / 3, 5 / 3), ("finetune", 3, 5 / 3, 5 / 3)]
    everything = drift.language_count_drift(EDGES, TRAITS, "languages", require_both=False)
    assert everything.row(0) == ("all", 4, 1.75, 1.25)
    cards = pl.DataFrame(
        {
            "model_id": ["p", "c1", "c2", "c3", "q", "c4"],
            "has_card": [True, True, True, True, True, False],
            "card_length_characters": [1000, 200, 400, 300, 50, None],
            "is_auto_generated": [False, True, True, False, False, None],
        }
    )
    both = drift.card_drift(EDGES, cards)
    assert both.row(0) == ("all", 3, 1000.0, 300.0, 0.0, 2 / 3, 2 / 3)
    assert both.row(1) == ("adapter", 1, 1000.0, 300.0, 0.0, 0.0, 0.0)
    every_edge = drift.card_drift(EDGES, cards, require_both_cards=False)
    assert every_edge.row(0)[:2] == ("all", 4)
    assert every_edge.row(0)[-1] == pytest.approx(0.5)  # c4 has no card: not auto-generated


def test_bad_input_messages():
    with pytest.raises(ValueError, match="square"):
        drift.solve_linear_ordering(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="traits is missing"):
        drift.mutation_rates(EDGES, TRAITS, ["license_ids"])

"""Genetic similarity: exact motif counts, uniform instance sampling, exact similarities, bootstrap coverage."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_frame_not_equal
from scipy import stats

from hubgenome.analytics import similarity
from hubgenome.analytics._graph import build_digraph

# r has children a, b, c; a has two parents (r, s) and children d, e, f; b → g; d → h.
EDGE_LIST = [("r", "a"), ("r", "b"), ("r", "c"), ("s", "a"), ("a", "d"), ("a", "e"), ("a", "f"), ("b", "g"), ("d", "h")]
EDGES = pl.DataFrame(
    {"parent_model_id": [p for p, _ in EDGE_LIST], "child_model_id": [c for _, c in EDGE_LIST], "relation": "finetune"}
)


def _enumerate(edge_list):
    """Every motif instance by brute force, canonicalised (unordered where roles are exchangeable)."""
    children: dict[str, list[str]] = {}
    for p, c in edge_list:
        children.setdefault(p, []).append(c)
    kids = lambda node: children.get(node, [])  # noqa: E731
    instances = {
        "duo": [(p, c) for p, c in edge_list],
        "trio_1": [(u, frozenset(pair)) for u in children for pair in itertools.combinations(kids(u), 2)],
        "trio_2": [(u, v, w) for u, v in edge_list for w in kids(v)],
        "quad_0": [(u, frozenset(t)) for u in children for t in itertools.combinations(kids(u), 3)],
        "quad_1": [(u, v, frozenset(pair)) for u, v in edge_list for pair in itertools.combinations(kids(v), 2)],
        "quad_2": [(u, v, w, x) for u, v in edge_list for w in kids(v) for x in kids(u) if x != v],
        "quad_3": [(t, u, v, w) for t, u in edge_list for v in kids(u) for w in kids(v)],
    }
    return instances


def _canonical(motif, row):
    if motif == "trio_1":
        return (row[0], frozenset(row[1:]))
    if motif == "quad_0":
        return (row[0], frozenset(row[1:]))
    if motif == "quad_1":
        return (row[0], row[1], frozenset(row[2:]))
    return tuple(row)


def test_motif_instance_counts_match_brute_force():
    graph = build_digraph(EDGES)
    counts = similarity.motif_instance_counts(graph)
    expected = {motif: len(found) for motif, found in _enumerate(EDGE_LIST).items()}
    assert counts == {"rando": 10 * 9 // 2, **expected}
    # hand check of a few: siblings C(3,2) + C(3,2) + ... = 3 + 3 = 6; chains r→a→{d,e,f}, s→a→{d,e,f}, r→b→g, a→d→h
    assert expected["trio_1"] == 6 and expected["trio_2"] == 8 and expected["quad_3"] == 2


@pytest.mark.parametrize("motif", ["duo", "trio_1", "trio_2", "quad_0", "quad_1", "quad_2", "quad_3"])
def test_every_instance_is_equally_likely(motif):
    graph = build_digraph(EDGES)
    names = graph.ids.to_list()
    expected = Counter(_enumerate(EDGE_LIST)[motif])
    assert all(count == 1 for count in expected.values())  # no instance enumerated twice
    draws = similarity.sample_motif_instances(graph, motif, 60_000, np.random.default_rng(42))
    observed = Counter(_canonical(motif, [names[i] for i in row]) for row in draws)
    assert set(observed) == set(expected)  # every sampled instance is real, every real one is sampled
    frequencies = np.array([observed[key] for key in expected])
    assert stats.chisquare(frequencies).pvalue > 1e-3
    assert np.abs(frequencies / len(draws) * len(expected) - 1).max() < 0.1


def test_random_pairs_are_distinct_and_uniform():
    graph = build_digraph(EDGES)
    draws = similarity.sample_motif_instances(graph, "rando", 90_000, np.random.default_rng(0))
    assert (draws[:, 0] != draws[:, 1]).all()
    pairs = Counter(tuple(sorted(row)) for row in draws.tolist())
    assert len(pairs) == 45
    assert stats.chisquare(list(pairs.values())).pvalue > 1e-3


def test_absent_motif_gives_no_instances():
    graph = build_digraph(EDGES.filter(pl.col("parent_model_id") == "b"))
    assert similarity.sample_motif_instances(graph, "trio_1", 10, np.random.default_rng(0)).shape == (0, 3)


def test_exact_similarities_through_the_table():
    # one parent with two children: every trio_1 instance is (p, c1, c2)
    edges = pl.DataFrame({"parent_model_id": ["p", "p"], "child_model_id": ["c1", "c2"], "relation": "finetune"})
    genomes = pl.DataFrame({"model_id": ["p", "c1", "c2"], "genome": ["aaaa", "aabb", "aabc"]})
    table = similarity.similarity_table(
        edges, genomes, motifs=["trio_1", "duo"], measures=["levenshtein"], n_samples=200, n_resamples=500
    )
    by_pair = {
        (m, c): (mean, low, high)
        for m, c, mean, low, high in table.select("motif", "config", "mean", "ci_low", "ci_high").iter_rows()
    }
    assert by_pair[("trio_1", 1)] == (0.5, 0.5, 0.5)  # parent–child: 2 of 4 characters differ
    assert by_pair[("trio_1", 2)] == (0.75, 0.75, 0.75)  # siblings: 1 of 4 differs
    assert by_pair[("duo", 1)] == (0.5, 0.5, 0.5)
    assert table["n_instances"].to_list() == [1, 1, 2]


def test_bag_of_words_cosine_is_exact():
    vectors = similarity.TextVectors.fit(["alpha beta", "alpha gamma", "delta"])
    # features (1–2-grams): {alpha, beta, alpha beta} vs {alpha, gamma, alpha gamma}: one shared of three each
    assert similarity.pair_similarity("bow", ["alpha beta"], ["alpha gamma"], vectors)[0] == pytest.approx(1 / 3)
    assert similarity.pair_similarity("bow", ["alpha beta"], ["delta"], vectors)[0] == 0.0
    assert similarity.pair_similarity("tfidf", ["alpha gamma"], ["alpha gamma"], vectors)[0] == pytest.approx(1.0)
    assert similarity.pair_similarity("tfidf", ["alpha beta"], ["delta"], vectors)[0] == 0.0
    tfidf = similarity.pair_similarity("tfidf", ["alpha beta"], ["alpha gamma"], vectors)[0]
    assert 0 < tfidf < 1 / 3  # the shared word "alpha" is down-weighted: it appears in two documents
    with pytest.raises(ValueError, match=r"TextVectors\.fit"):
        similarity.pair_similarity("bow", ["a"], ["b"])


def test_levenshtein_edge_cases():
    assert similarity.levenshtein_similarity(["", "abc", "abc"], ["", "", "abd"]).tolist() == pytest.approx(
        [1, 0, 2 / 3]
    )


def test_bootstrap_intervals_cover_the_true_mean():
    rng = np.random.default_rng(123)
    covered = 0
    trials = 200
    for trial in range(trials):
        sample = rng.beta(2, 5, 120)  # true mean 2/7
        _, low, high = similarity.bootstrap_mean_ci(sample, n_resamples=2_000, seed=trial)
        covered += low <= 2 / 7 <= high
    assert 0.90 <= covered / trials <= 0.99


def test_bootstrap_is_seeded_and_handles_empty():
    values = np.random.default_rng(0).random(50)
    assert similarity.bootstrap_mean_ci(values, seed=3) == similarity.bootstrap_mean_ci(values, seed=3)
    assert similarity.bootstrap_mean_ci(values, seed=3) != similarity.bootstrap_mean_ci(values, seed=4)
    assert all(np.isnan(similarity.bootstrap_mean_ci([])))


def test_metadata_genome_with_and_without_parent_references():
    listing = {
        "_id": "1", "id": "me/ft", "tags": ["license:mit", "base_model:org/base", "base_model:finetune:org/base"],
        "downloads": 5, "cardData": {"ignored": True}, "modelId": "me/ft",
    }  # fmt: skip
    frame = pl.DataFrame({"model_id": ["me/ft"], "metadata": [json.dumps(listing)]})
    kept = similarity.metadata_genomes(frame)["genome"][0]
    assert "org/base" in kept and "cardData" not in kept
    removed = similarity.metadata_genomes(frame, remove_parent_references=True)["genome"][0]
    assert "org/base" not in removed and "base_model" not in removed and "license:mit" in removed
    assert removed.startswith("{'_id': '1', 'id': 'me/ft'")


def test_card_genome_eligibility():
    cards = pl.DataFrame(
        {
            "model_id": ["long", "auto", "short", "none", "flagged"],
            "card_text": [
                "a" * 700,
                "This model card has been Automatically Generated. " + "b" * 600,
                "c" * 511,
                None,
                "d" * 600,
            ],
        }
    )
    assert similarity.card_genomes(cards)["model_id"].to_list() == ["long", "flagged"]
    flagged = cards.with_columns(is_auto_generated=pl.Series([False, False, False, False, True]))
    assert similarity.card_genomes(flagged)["model_id"].to_list() == ["long", "auto"]


def _family_graph(n_families: int, seed: int):
    """Families where siblings share a template and children rewrite half of the parent's words."""
    rng = np.random.default_rng(seed)
    vocabulary = [f"w{i}" for i in range(400)]
    parents, children, genome_ids, genome_texts = [], [], [], []
    for family in range(n_families):
        base = list(rng.choice(vocabulary, 30))
        sibling_template = base[:15] + list(rng.choice(vocabulary, 15))
        root = f"f{family}"
        genome_ids.append(root)
        genome_texts.append(" ".join(base))
        for child in range(int(rng.integers(2, 6))):
            name = f"{root}/c{child}"
            parents.append(root)
            children.append(name)
            words = list(sibling_template)
            words[int(rng.integers(0, 30))] = str(rng.choice(vocabulary))
            genome_ids.append(name)
            genome_texts.append(" ".join(words))
    edges = pl.DataFrame({"parent_model_id": parents, "child_model_id": children, "relation": "finetune"})
    return edges, pl.DataFrame({"model_id": genome_ids, "genome": genome_texts})


def test_siblings_beat_parent_child_and_random_on_planted_families():
    edges, genomes = _family_graph(60, seed=1)
    table = similarity.similarity_table(edges, genomes, motifs=["rando", "trio_1"], n_samples=300, n_resamples=1_000)
    mean = {(r["motif"], r["config"], r["measure"]): r["mean"] for r in table.iter_rows(named=True)}
    for measure in similarity.MEASURES:
        assert mean[("trio_1", 2, measure)] > mean[("trio_1", 1, measure)] > mean[("rando", 1, measure)]


def test_similarity_table_is_deterministic_and_drops_ineligible_pairs():
    edges, genomes = _family_graph(20, seed=2)
    kwargs = {"motifs": ["rando", "trio_1", "quad_1"], "n_samples": 100, "n_resamples": 500, "seed": 9}
    first = similarity.similarity_table(edges, genomes, **kwargs)
    assert_frame_equal(first, similarity.similarity_table(edges, genomes, **kwargs), check_exact=True)
    assert_frame_not_equal(
        first, similarity.similarity_table(edges, genomes, **{**kwargs, "seed": 10}), check_exact=True
    )
    missing = genomes.filter(~pl.col("model_id").str.ends_with("c0"))
    partial = similarity.similarity_table(edges, missing, **kwargs)
    assert (partial.filter(pl.col("motif") == "trio_1")["n_pairs"] < 100).all()
    assert partial.filter(pl.col("motif") == "quad_1")["n_pairs"].to_list() == [0] * 12  # depth-1 families
    with pytest.raises(ValueError, match="unknown motif"):
        similarity.similarity_table(edges, genomes, motifs=["penta"], measures=["levenshtein"])


@pytest.mark.slow
def test_motif_sampling_scales_to_three_million_nodes():
    rng = np.random.default_rng(0)
    n = 3_000_000
    # a preferential-attachment-like forest: each node's parent drawn from earlier nodes, heavy-tailed
    parent = (rng.random(n - 1) ** 3 * np.arange(1, n)).astype(np.int64)
    names = pl.Series(np.arange(n)).cast(pl.String)
    edges = pl.DataFrame({"parent_model_id": names.gather(parent), "child_model_id": names[1:], "relation": "finetune"})
    graph = build_digraph(edges)
    counts = similarity.motif_instance_counts(graph)
    assert counts["trio_1"] > 10**8  # far too many sibling pairs to enumerate
    for motif in similarity.MOTIFS:
        assert similarity.sample_motif_instances(graph, motif, 1_000, rng).shape[0] == 1_000

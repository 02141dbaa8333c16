"""Similarity scoring split into self-contained jobs: the table does not depend on how it is split."""

from __future__ import annotations

import pickle

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_frame_not_equal

from hubgenome.analytics import similarity


def _family_graph(n_families: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parents with two to four children and grandchildren; genomes share words within a family."""
    rng = np.random.default_rng(seed)
    vocabulary = [f"w{i}" for i in range(400)]
    parents, children, ids, texts = [], [], [], []
    for family in range(n_families):
        words = list(rng.choice(vocabulary, 40))
        root = f"f{family}/root"
        ids.append(root)
        texts.append(" ".join(words))
        for child in range(int(rng.integers(2, 5))):
            name = f"f{family}/c{child}"
            parents.append(root)
            children.append(name)
            changed = list(words)
            for _ in range(8):
                changed[int(rng.integers(0, len(changed)))] = str(rng.choice(vocabulary))
            ids.append(name)
            texts.append(" ".join(changed))
            if child == 0:
                parents.append(name)
                children.append(f"{name}/g")
    edges = pl.DataFrame({"parent_model_id": parents, "child_model_id": children, "relation": "finetune"})
    return edges, pl.DataFrame({"model_id": ids, "genome": texts})


def _shipped(jobs: list[similarity.ScoringJob]) -> list[list[tuple]]:
    """Score each job after a pickle round trip, last job first: as another process would, in any order."""
    results = {
        index: similarity.score_job(pickle.loads(pickle.dumps(job))) for index, job in reversed(list(enumerate(jobs)))
    }
    return [results[index] for index in range(len(jobs))]


def test_partitioned_scoring_gives_the_same_table_as_one_job():
    edges, genomes = _family_graph(40, seed=3)
    # grandchildren have no genome: some pairs are dropped, as with ineligible cards
    kwargs = {"n_samples": 150, "n_resamples": 400, "seed": 11, "fit_max_documents": 60}
    local = similarity.similarity_table(edges, genomes, **kwargs)
    seen: list[int] = []

    def scorer(jobs: list[similarity.ScoringJob]) -> list[list[tuple]]:
        seen.append(len(jobs))
        assert all(len(job.samples) == 1 for job in jobs)
        # a job carries only the genomes its own pairs touch
        assert max(len(job.genomes) for job in jobs) < genomes.height
        return _shipped(jobs)

    partitioned = similarity.similarity_table(edges, genomes, score_partitions=scorer, **kwargs)
    assert seen == [sum(len(configs) for configs in similarity.MOTIFS.values())]
    assert local.height == seen[0] * len(similarity.MEASURES)
    assert (local["n_pairs"] > 0).any() and (local["n_pairs"] < kwargs["n_samples"]).any()
    assert_frame_equal(partitioned, local, check_exact=True)
    # a different seed gives a different table, so the equality above is not vacuous
    assert_frame_not_equal(
        similarity.similarity_table(edges, genomes, **{**kwargs, "seed": 12}), local, check_exact=True
    )


def test_a_scorer_must_return_one_result_per_job():
    edges, genomes = _family_graph(5, seed=4)
    with pytest.raises(ValueError, match="one per job"):
        similarity.similarity_table(
            edges, genomes, motifs=["duo", "trio_1"], n_samples=20, n_resamples=10, score_partitions=lambda jobs: []
        )

"""Tree-structure analyses on hand-built graphs and on samples from known distributions."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from hubgenome.analytics import lineage


def _edges(rows: list[tuple[str, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"parent_model_id": pl.String, "child_model_id": pl.String, "relation": pl.String}, orient="row"
    )


# a → b → d, a → c (finetune); c → e (adapter); x, y merge into m; z alone; q's parent "gone" is missing.
EDGES = _edges(
    [
        ("a", "b", "finetune"),
        ("a", "c", "finetune"),
        ("b", "d", "finetune"),
        ("c", "e", "adapter"),
        ("x", "m", "merge"),
        ("y", "m", "merge"),
        ("a", "m", "merge"),
        ("gone", "q", "quantized"),
    ]
)
MODELS = ["a", "b", "c", "d", "e", "x", "y", "m", "z", "q"]


def test_family_table_with_and_without_merges():
    with_merges = lineage.family_table(EDGES, MODELS)
    assert with_merges.rows() == [
        # a's family absorbs m, x and y through the merge edges; widest generations: {a, x, y}, {b, c, m}
        ("a", 8, 2, 3, 3, 7),
        ("q", 1, 0, 1, 1, 0),
        ("z", 1, 0, 1, 1, 0),
    ]
    without = lineage.family_table(EDGES, MODELS, include_merges=False)
    assert without.filter(pl.col("family_id") == "a").row(0) == ("a", 5, 2, 2, 1, 4)
    assert without["size"].sum() == len(MODELS)
    assert without.height == 6  # {a,b,c,d,e}, m, x, y, z, q


def test_model_families_depth_is_longest_path_and_null_on_cycles():
    cyclic = pl.concat([EDGES, _edges([("d", "k", "finetune"), ("k", "d2", "finetune"), ("d2", "k", "finetune")])])
    families = lineage.model_families(cyclic, [*MODELS, "k", "d2"], include_merges=True)
    depth = dict(zip(families["model_id"], families["depth"], strict=True))
    assert depth["a"] == 0 and depth["d"] == 2 and depth["e"] == 2
    assert depth["m"] == 1  # longest path from a parentless member: a → m
    assert depth["k"] is None and depth["d2"] is None  # on a cycle: no generation


def test_count_weak_components_as_the_paper():
    # typed edges only, missing parents added, singletons counted:
    # {a,b,c,d,e,m,x,y}, {z}, {q, gone} → 3
    assert lineage.count_weak_components(EDGES, MODELS) == 3
    untyped = EDGES.with_columns(has_typed_tag=pl.col("relation") != "adapter")
    # without the adapter edge c → e, e is its own component
    assert lineage.count_weak_components(untyped, MODELS) == 4
    assert lineage.count_weak_components(EDGES, MODELS, add_missing_parents=False) == 3


def test_ccdf_and_value_distribution():
    table = lineage.ccdf(pl.Series([3, 1, 1, 2, 1]))
    assert table.rows() == [(1, 3, 1.0), (2, 1, 0.4), (3, 1, 0.2)]
    assert lineage.value_distribution([0, 0, 5], name="k").rows() == [(0, 2, 2 / 3), (5, 1, 1 / 3)]


def test_out_degree_top_parents_and_children_with_children():
    degree = lineage.out_degree_distribution(EDGES, MODELS)
    # a: 3 children (b, c, m); b, c, x, y: 1; d, e, m, z, q: 0 ("gone" is not in the snapshot)
    assert degree.rows() == [(0, 5, 0.5), (1, 4, 0.4), (3, 1, 0.1)]
    top = lineage.top_parents(EDGES, MODELS, n=2)
    assert top.filter(pl.col("relation") == "all").rows() == [("all", 1, "a", 3), ("all", 2, "b", 1)]
    assert top.filter(pl.col("relation") == "finetune").rows() == [("finetune", 1, "a", 2), ("finetune", 2, "b", 1)]
    shares = lineage.children_with_children(EDGES, MODELS)
    assert shares.rows() == [
        ("adapter", 1, 0, 0.0),
        ("finetune", 3, 2, 2 / 3),  # b and c have children, d does not
        ("merge", 3, 0, 0.0),
    ]


def test_family_growth_is_cumulative_by_creation_day():
    models = pl.DataFrame(
        {
            "model_id": MODELS,
            "created_at": pl.Series(
                [
                    "2023-01-01",
                    "2023-01-02",
                    "2023-01-02",
                    "2023-01-05",
                    None,
                    "2023-01-01",
                    "2023-01-01",
                    "2023-01-09",
                    "2023-01-01",
                    "2023-01-03",
                ]
            ).str.to_datetime(),
        }
    )
    growth = lineage.family_growth(EDGES, models, top_n=1)
    assert [str(day) for day in growth["created_on"]] == ["2023-01-01", "2023-01-02", "2023-01-05"]
    assert growth["new_members"].to_list() == [1, 2, 1]
    assert growth["cumulative_size"].to_list() == [1, 3, 4]  # e has no date
    assert growth["final_size"].unique().to_list() == [5]


@pytest.mark.parametrize("alpha", [2.0, 2.5, 3.0])
def test_power_law_recovers_alpha_from_zipf_samples(alpha):
    sample = np.random.default_rng(7).zipf(alpha, 30_000)
    fit = lineage.fit_power_law(sample)
    assert abs(fit.alpha - alpha) < max(0.05, 4 * fit.alpha_std_err)
    assert fit.ks_distance < 0.02


def test_power_law_finds_x_min_above_a_non_power_body():
    rng = np.random.default_rng(11)
    draws = rng.zipf(2.5, 3_000_000)
    tail = draws[draws >= 20][:10_000]  # exact discrete power law truncated at 20
    body = rng.integers(1, 20, 20_000)  # uniform body that a power law cannot describe
    fit = lineage.fit_power_law(np.concatenate([body, tail]))
    assert 15 <= fit.x_min <= 30
    assert abs(fit.alpha - 2.5) < 0.1


def test_lognormal_sample_is_judged_lognormal_and_zipf_power_law():
    rng = np.random.default_rng(3)
    lognormal = np.rint(rng.lognormal(2.0, 0.9, 20_000)).astype(int)
    lognormal = lognormal[lognormal >= 1]
    judged = lineage.compare_to_lognormal(lognormal, lineage.fit_power_law(lognormal, x_min=1))
    assert judged.preferred == "lognormal"
    assert judged.p_value < 0.01
    assert abs(judged.lognormal_mu - 2.0) < 0.05 and abs(judged.lognormal_sigma - 0.9) < 0.05
    zipf = rng.zipf(2.2, 20_000)
    assert lineage.compare_to_lognormal(zipf, lineage.fit_power_law(zipf, x_min=1)).preferred == "power_law"


def test_tail_fit_summary_and_input_errors():
    summary = lineage.tail_fit_summary(np.random.default_rng(0).zipf(2.5, 5_000), label="sizes")
    assert summary.columns[:3] == ["distribution", "n_total", "x_min"]
    assert summary["preferred"][0] in {"power_law", "inconclusive", "lognormal"}
    with pytest.raises(ValueError, match="integer"):
        lineage.fit_power_law([1.5, 2.0])
    with pytest.raises(ValueError, match="positive"):
        lineage.fit_power_law([0, 0])
    with pytest.raises(ValueError, match="child_model_id"):
        lineage.family_table(pl.DataFrame({"parent": ["a"]}))


def test_deterministic_and_order_independent():
    shuffled = EDGES.sample(fraction=1.0, shuffle=True, seed=5)
    assert_frame_equal(
        lineage.family_table(EDGES, MODELS), lineage.family_table(shuffled, list(reversed(MODELS))), check_exact=True
    )

"""Directed drift: how traits change from parent to child, and in which direction the ecosystem flows.

The paper's second headline (Laufer et al. 2025, §4) is that drift is *directed*: licences move from
commercial/custom toward permissive, languages shrink toward English, cards get shorter and more
auto-generated. This module computes the per-trait mutation rate, the trait transition graph exactly
as the paper counted it, and the optimal linear ordering of the top values, solved exactly as an
integer linear program with HiGHS (``scipy.optimize.milp``) instead of the paper's OR-Tools SCIP.

Input frames
------------
edges
    ``child_model_id`` (str), ``parent_model_id`` (str), ``relation`` (str). Pass the edges of the
    graph you want: the paper's orderings and mutation rates use finetune edges only (``G_finetune``),
    the language/card drift all four relation types (``G``).
traits
    One row per model of the snapshot: ``model_id`` (str) and trait columns, each either a list of
    str (``license_ids``, ``language_codes``) or a str (``pipeline_tag``, ``library_name``); null or
    empty means "no value". Parents absent from ``traits`` are skipped, as in the paper.
cards
    One row per model: ``model_id`` (str), ``has_card`` (bool), ``card_length_characters`` (int),
    ``is_auto_generated`` (bool).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from hubgenome.analytics._graph import require_columns

# Values the paper dropped before ranking the top-n traits (ordering_helpers.py).
UNINFORMATIVE_VALUES = ("other", "unknown", "none", "None", "")


def _as_list(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The trait as a sorted list of distinct non-empty strings (scalars wrapped, null → [])."""
    dtype = frame.schema[column]
    expr = pl.col(column)
    if not isinstance(dtype, pl.List):
        expr = pl.concat_list(expr.cast(pl.String))
    return (
        expr.list.eval(pl.element().cast(pl.String).filter(pl.element().is_not_null() & (pl.element() != "")))
        .list.unique()
        .list.sort()
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )


def edge_traits(edges: pl.DataFrame, traits: pl.DataFrame, column: str) -> pl.DataFrame:
    """Parent and child values of one trait on every edge whose both ends are in ``traits``.

    Returns
    -------
    polars.DataFrame
        ``child_model_id``, ``parent_model_id``, ``relation``, ``parent_values``, ``child_values``
        (list[str]).
    """
    require_columns(edges, ("child_model_id", "parent_model_id"), "edges")
    require_columns(traits, ("model_id", column), "traits")
    values = traits.select("model_id", _as_list(traits, column).alias("values"))
    relation = pl.col("relation") if "relation" in edges.columns else pl.lit(None, pl.String)
    return (
        edges.select("child_model_id", "parent_model_id", relation.alias("relation"))
        .join(values.rename({"values": "parent_values"}), left_on="parent_model_id", right_on="model_id")
        .join(values.rename({"values": "child_values"}), left_on="child_model_id", right_on="model_id")
    )


def mutation_rates(
    edges: pl.DataFrame,
    traits: pl.DataFrame,
    columns: Sequence[str],
) -> pl.DataFrame:
    """Mean 1 − Jaccard(parent values, child values) over edges where both sides are non-empty.

    Paper (finetune edges): language 0.2419, license 0.1976, task 0.4106.

    Returns
    -------
    polars.DataFrame
        ``trait`` (str), ``n_edges`` (int), ``n_changed`` (int: edges with any change),
        ``mutation_rate`` (float, null when no edge qualifies).

    Examples
    --------
    >>> edges = pl.DataFrame({"child_model_id": ["b"], "parent_model_id": ["a"]})
    >>> traits = pl.DataFrame({"model_id": ["a", "b"], "langs": [["en", "fr"], ["en"]]})
    >>> mutation_rates(edges, traits, ["langs"]).rows()
    [('langs', 1, 1, 0.5)]
    """
    rows = []
    for column in columns:
        both = edge_traits(edges, traits, column).filter(
            (pl.col("parent_values").list.len() > 0) & (pl.col("child_values").list.len() > 0)
        )
        jaccard = (
            pl.col("parent_values").list.set_intersection("child_values").list.len()
            / pl.col("parent_values").list.set_union("child_values").list.len()
        )
        stats = both.select(
            pl.len().alias("n_edges"),
            (jaccard < 1).sum().alias("n_changed"),
            (1 - jaccard).mean().alias("mutation_rate"),
        ).row(0)
        rows.append((column, int(stats[0]), int(stats[1] or 0), stats[2]))
    return pl.DataFrame(
        rows,
        schema={"trait": pl.String, "n_edges": pl.Int64, "n_changed": pl.Int64, "mutation_rate": pl.Float64},
        orient="row",
    )


def transition_counts(edges: pl.DataFrame, traits: pl.DataFrame, column: str) -> pl.DataFrame:
    """The trait transition graph, counted as the paper did (``ordering_helpers.py``).

    On every edge P → C with both value sets non-empty: each value ``a`` added (in C, not in P)
    counts one transition p → a from *every* parent value p; each value ``r`` removed (in P, not in C)
    counts r → c toward *every* child value c. A clean substitution A → B is thus counted twice.

    Returns
    -------
    polars.DataFrame
        ``source``, ``target`` (str), ``n_transitions`` (int), sorted by source, target.

    Examples
    --------
    >>> edges = pl.DataFrame({"child_model_id": ["b"], "parent_model_id": ["a"]})
    >>> traits = pl.DataFrame({"model_id": ["a", "b"], "lic": ["llama3", "apache-2.0"]})
    >>> transition_counts(edges, traits, "lic").rows()
    [('llama3', 'apache-2.0', 2)]
    """
    both = edge_traits(edges, traits, column).filter(
        (pl.col("parent_values").list.len() > 0) & (pl.col("child_values").list.len() > 0)
    )
    additions = both.select(
        pl.col("parent_values").alias("source"),
        pl.col("child_values").list.set_difference("parent_values").alias("target"),
    )
    removals = both.select(
        pl.col("parent_values").list.set_difference("child_values").alias("source"),
        pl.col("child_values").alias("target"),
    )
    pairs = pl.concat([additions, removals]).explode("source").explode("target").drop_nulls()
    return (
        pairs.group_by("source", "target").agg(pl.len().cast(pl.Int64).alias("n_transitions")).sort("source", "target")
    )


def oriented_transitions(counts: pl.DataFrame) -> pl.DataFrame:
    """One edge per pair of values, pointing toward the larger count (the paper's oriented graph).

    ``traffic`` is |n(a→b) − n(b→a)|, ``total_n`` is n(a→b) + n(b→a). Pairs with equal traffic both
    ways have no orientation and are left out.

    Returns
    -------
    polars.DataFrame
        ``source``, ``target`` (str), ``traffic``, ``total_n`` (int), ``directionality`` (float:
        n(source→target) / total_n).
    """
    require_columns(counts, ("source", "target", "n_transitions"), "counts")
    reverse = counts.select(
        pl.col("source").alias("target"), pl.col("target").alias("source"), pl.col("n_transitions").alias("n_reverse")
    )
    return (
        counts.join(reverse, on=["source", "target"], how="left")
        .with_columns(pl.col("n_reverse").fill_null(0))
        .filter(pl.col("n_transitions") > pl.col("n_reverse"))
        .select(
            "source",
            "target",
            (pl.col("n_transitions") - pl.col("n_reverse")).alias("traffic"),
            (pl.col("n_transitions") + pl.col("n_reverse")).alias("total_n"),
            (pl.col("n_transitions") / (pl.col("n_transitions") + pl.col("n_reverse"))).alias("directionality"),
        )
        .sort("source", "target")
    )


def top_values(
    traits: pl.DataFrame,
    column: str,
    n: int,
    *,
    exclude: Iterable[str] = UNINFORMATIVE_VALUES,
) -> list[str]:
    """The ``n`` values carried by the most models (ties: alphabetical), uninformative values excluded.

    Examples
    --------
    >>> traits = pl.DataFrame({"model_id": ["a", "b", "c"], "lic": [["mit"], ["mit", "other"], ["gpl"]]})
    >>> top_values(traits, "lic", 5)
    ['mit', 'gpl']
    """
    require_columns(traits, ("model_id", column), "traits")
    excluded = list(exclude)
    counts = (
        traits.select(_as_list(traits, column).alias("value"))
        .explode("value")
        .drop_nulls()
        .filter(~pl.col("value").is_in(excluded))
        .group_by("value")
        .agg(pl.len().alias("n"))
        .sort(["n", "value"], descending=[True, False])
    )
    return counts["value"].head(n).to_list()


def _weight_matrix(counts: pl.DataFrame, nodes: Sequence[str], weight_column: str) -> np.ndarray:
    position = {node: i for i, node in enumerate(nodes)}
    matrix = np.zeros((len(nodes), len(nodes)))
    for source, target, weight in counts.select("source", "target", weight_column).iter_rows():
        if source in position and target in position and source != target:
            matrix[position[source], position[target]] += weight
    return matrix


def planted_ordering(n: int, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """A linear-ordering instance whose optimum is known: ``(weights, order)``.

    Every pair of the ``n`` traits has weight only in the direction of a random order (1-9, seeded),
    so that order is the unique optimum and the objective is ``weights.sum()``. For checking and
    timing :func:`solve_linear_ordering` at the paper's size (20 traits).
    """
    rng = np.random.default_rng(seed)
    planted = rng.permutation(n)
    rank = np.empty(n, dtype=int)
    rank[planted] = np.arange(n)
    weights = np.zeros((n, n))
    for u, v in itertools.permutations(range(n), 2):
        if rank[u] < rank[v]:
            weights[u, v] = rng.integers(1, 10)
    return weights, planted.tolist()


def solve_linear_ordering(weights: np.ndarray) -> tuple[list[int], float]:
    """Exact maximum-weight linear ordering: the permutation maximising Σ w[u, v] over u placed before v.

    Integer program on one binary x_ij per pair i < j (1 = i before j; j before i is 1 − x_ij) with the
    3-cycle (transitivity) constraints 0 ≤ x_ij + x_jk − x_ik ≤ 1 for every triple i < j < k, solved
    by HiGHS through ``scipy.optimize.milp``. Equivalent to the paper's x_uv + x_vu = 1 formulation
    with half the variables. n = 20 (190 variables, 1,140 triples) solves in well under a second.

    Returns
    -------
    (order, objective)
        Node indices from upstream to downstream, and Σ w[u, v] over forward pairs.

    Examples
    --------
    >>> solve_linear_ordering(np.array([[0, 1, 0], [0, 0, 5], [4, 0, 0]]))
    ([1, 2, 0], 9.0)
    """
    matrix = np.asarray(weights, dtype=float)
    n = matrix.shape[0]
    if matrix.shape != (n, n):
        msg = f"weights must be a square matrix; got shape {matrix.shape}."
        raise ValueError(msg)
    if n <= 1:
        return list(range(n)), 0.0
    pairs = list(itertools.combinations(range(n), 2))
    index = {pair: k for k, pair in enumerate(pairs)}
    # maximise Σ_{i<j} w_ij x_ij + w_ji (1 − x_ij)  ⇔  minimise −Σ (w_ij − w_ji) x_ij
    cost = np.array([-(matrix[i, j] - matrix[j, i]) for i, j in pairs])
    constant = float(sum(matrix[j, i] for i, j in pairs))
    triples = list(itertools.combinations(range(n), 3))
    constraints = []
    if triples:
        rows = np.repeat(np.arange(len(triples)), 3)
        cols = np.array([[index[(i, j)], index[(j, k)], index[(i, k)]] for i, j, k in triples]).ravel()
        values = np.tile([1.0, 1.0, -1.0], len(triples))
        matrix_a = sparse.csr_array((values, (rows, cols)), shape=(len(triples), len(pairs)))
        constraints.append(LinearConstraint(matrix_a, 0.0, 1.0))
    result = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
        options={"disp": False},
    )
    if not result.success:
        msg = f"the linear-ordering ILP did not solve ({result.message}); reduce n or check the weights."
        raise RuntimeError(msg)
    before = np.zeros((n, n), dtype=bool)
    for (i, j), value in zip(pairs, np.rint(result.x).astype(int), strict=True):
        before[i, j], before[j, i] = bool(value), not bool(value)
    # a node's position is the number of nodes placed before it (a total order by transitivity)
    order = sorted(range(n), key=lambda v: (int(before[:, v].sum()), v))
    objective = float(sum(matrix[u, v] for a, u in enumerate(order) for v in order[a + 1 :]))
    assert abs(objective - (constant - result.fun)) < 1e-6 * max(1.0, abs(objective))
    return order, objective


@dataclass(frozen=True)
class TraitOrdering:
    """The optimal upstream → downstream order of a trait's top values and how well it explains drift.

    ``forward_share`` is the paper's "mutations accounted for": raw transitions among the top values
    that go forward in the order / all raw transitions among them (license 84.6 %, language 75.0 %,
    task 98.2 %, library 83.7 %). ``compatible_oriented_edges`` / ``oriented_edges`` is the paper's
    oriented-edge compatibility (113/121 for licences).
    """

    trait: str
    order: list[str]
    objective: float
    forward_transitions: int
    total_transitions: int
    forward_share: float | None
    compatible_oriented_edges: int
    oriented_edges: int
    net_traffic: int
    total_n: int


def order_trait(counts: pl.DataFrame, nodes: Sequence[str], *, trait: str = "", weighted: bool = True) -> TraitOrdering:
    """Solve the optimal ordering of ``nodes`` from a transition-count frame and score it.

    ``weighted`` maximises the oriented traffic put forward (the paper's weighted order; the same
    optimum as maximising raw forward transitions, since each pair's raw count is its smaller
    direction plus its traffic); otherwise the number of oriented edges put forward.
    """
    oriented = oriented_transitions(counts)
    oriented_top = oriented.filter(pl.col("source").is_in(list(nodes)) & pl.col("target").is_in(list(nodes)))
    if weighted:
        weights = _weight_matrix(oriented_top, nodes, "traffic")
    else:
        weights = _weight_matrix(oriented_top.with_columns(pl.lit(1).alias("one")), nodes, "one")
    order_index, objective = solve_linear_ordering(weights)
    order = [nodes[i] for i in order_index]
    position = {value: i for i, value in enumerate(order)}
    raw = _weight_matrix(counts, order, "n_transitions")
    forward = int(np.triu(raw, 1).sum())
    total = int(raw.sum())
    compatible = sum(position[s] < position[t] for s, t in oriented_top.select("source", "target").iter_rows())
    return TraitOrdering(
        trait=trait,
        order=order,
        objective=objective,
        forward_transitions=forward,
        total_transitions=total,
        forward_share=forward / total if total else None,
        compatible_oriented_edges=int(compatible),
        oriented_edges=oriented_top.height,
        net_traffic=int(oriented_top["traffic"].sum()),
        total_n=int(oriented_top["total_n"].sum()),
    )


def trait_ordering(
    edges: pl.DataFrame,
    traits: pl.DataFrame,
    column: str,
    *,
    n: int,
    weighted: bool = True,
    exclude: Iterable[str] = UNINFORMATIVE_VALUES,
) -> TraitOrdering:
    """Transition graph → top-``n`` values (by models carrying them) → exact optimal ordering.

    The paper used n = 20 for licences and languages, 10 for tasks and libraries, on finetune edges.

    Examples
    --------
    >>> edges = pl.DataFrame({"child_model_id": ["b", "c"], "parent_model_id": ["a", "b"]})
    >>> traits = pl.DataFrame({"model_id": ["a", "b", "c"], "lic": ["llama3", "apache-2.0", "mit"]})
    >>> trait_ordering(edges, traits, "lic", n=3).order
    ['llama3', 'apache-2.0', 'mit']
    """
    counts = transition_counts(edges, traits, column)
    nodes = top_values(traits, column, n, exclude=exclude)
    return order_trait(counts, nodes, trait=column, weighted=weighted)


def orderings_table(orderings: Iterable[TraitOrdering]) -> pl.DataFrame:
    """One row per trait ordering (the order as an ``" > "``-joined string), for the analytics tables."""
    return pl.DataFrame(
        [
            {
                "trait": o.trait,
                "n_values": len(o.order),
                "order": " > ".join(o.order),
                "objective": o.objective,
                "forward_transitions": o.forward_transitions,
                "total_transitions": o.total_transitions,
                "forward_share": o.forward_share,
                "compatible_oriented_edges": o.compatible_oriented_edges,
                "oriented_edges": o.oriented_edges,
                "net_traffic": o.net_traffic,
                "total_n": o.total_n,
            }
            for o in orderings
        ],
        schema_overrides={"forward_share": pl.Float64},
    )


def _with_overall(frame: pl.DataFrame, aggregations: list[pl.Expr]) -> pl.DataFrame:
    by_relation = frame.group_by("relation").agg(aggregations)
    overall = frame.select(aggregations).with_columns(pl.lit("all").alias("relation"))
    return pl.concat([overall.select(by_relation.columns), by_relation.sort("relation")])


def language_count_drift(
    edges: pl.DataFrame,
    traits: pl.DataFrame,
    column: str = "language_codes",
    *,
    require_both: bool = True,
) -> pl.DataFrame:
    """Mean number of languages, parent → child, overall (``"all"``) and by relation.

    Paper (all relation types, edges where both list ≥ 1 language, n = 115,618): 6.60 → 1.81; with
    ``require_both=False`` (empty counted as 0, all edges): 4.18 → 0.45.

    Returns
    -------
    polars.DataFrame
        ``relation`` (str), ``n_edges`` (int), ``parent_mean``, ``child_mean`` (float).
    """
    frame = edge_traits(edges, traits, column).with_columns(
        pl.col("relation").fill_null("untyped"),
        pl.col("parent_values").list.len().alias("parent_n"),
        pl.col("child_values").list.len().alias("child_n"),
    )
    if require_both:
        frame = frame.filter((pl.col("parent_n") > 0) & (pl.col("child_n") > 0))
    return _with_overall(
        frame,
        [
            pl.len().cast(pl.Int64).alias("n_edges"),
            pl.col("parent_n").mean().alias("parent_mean"),
            pl.col("child_n").mean().alias("child_mean"),
        ],
    )


def card_drift(edges: pl.DataFrame, cards: pl.DataFrame, *, require_both_cards: bool = True) -> pl.DataFrame:
    """Card length and auto-generated share, parent → child, overall and by relation.

    Paper (edges where both have cards, n = 558,385): 9,773 → 4,402 characters; P(auto-generated)
    rises by +0.249 (+0.253 on all edges, a missing card counting as not auto-generated).

    Returns
    -------
    polars.DataFrame
        ``relation`` (str), ``n_edges`` (int), ``parent_length_mean``, ``child_length_mean``,
        ``parent_auto_generated_share``, ``child_auto_generated_share``, ``auto_generated_delta``
        (float). Lengths average over edges whose both ends have a card.
    """
    require_columns(edges, ("child_model_id", "parent_model_id"), "edges")
    require_columns(cards, ("model_id", "has_card", "card_length_characters", "is_auto_generated"), "cards")
    card = cards.select(
        "model_id",
        pl.col("has_card").fill_null(False),
        pl.col("card_length_characters").cast(pl.Float64),
        pl.col("is_auto_generated").fill_null(False),
    )
    relation = pl.col("relation").fill_null("untyped") if "relation" in edges.columns else pl.lit("untyped")
    frame = (
        edges.select("child_model_id", "parent_model_id", relation.alias("relation"))
        .join(
            card.rename(lambda c: f"parent_{c}" if c != "model_id" else c),
            left_on="parent_model_id",
            right_on="model_id",
        )
        .join(
            card.rename(lambda c: f"child_{c}" if c != "model_id" else c), left_on="child_model_id", right_on="model_id"
        )
    )
    both = pl.col("parent_has_card") & pl.col("child_has_card")
    if require_both_cards:
        frame = frame.filter(both)
    return _with_overall(
        frame,
        [
            pl.len().cast(pl.Int64).alias("n_edges"),
            pl.col("parent_card_length_characters").filter(both).mean().alias("parent_length_mean"),
            pl.col("child_card_length_characters").filter(both).mean().alias("child_length_mean"),
            pl.col("parent_is_auto_generated").mean().alias("parent_auto_generated_share"),
            pl.col("child_is_auto_generated").mean().alias("child_auto_generated_share"),
            (pl.col("child_is_auto_generated").cast(pl.Float64) - pl.col("parent_is_auto_generated").cast(pl.Float64))
            .mean()
            .alias("auto_generated_delta"),
        ],
    )

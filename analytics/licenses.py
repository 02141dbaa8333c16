"""Licence compliance: how often derivatives break an obligation their parent's licence imposes.

The paper's abstract says licences drift "often in violation of upstream license's terms" but never
gives a number. The warehouse's ``fct_license_conflicts`` flags each parent → child edge that breaks
a rule of the ``license_obligation_rules`` seed (a Llama or Gemma derivative relicensed as Apache,
a non-commercial parent with a commercial child, ...); this module summarises those flags and
computes the missing number: the share of relicensing edges that break an upstream obligation.

Input frames
------------
conflicts
    One row per (edge, rule) violated: ``child_model_id`` (str), ``parent_model_id`` (str),
    ``rule_id`` (str), optionally ``severity`` (str), ``family_id`` (str) and a creation timestamp of
    the child (``child_created_at``, datetime) for the by-year view.
rules
    The ``license_obligation_rules`` seed: ``rule_id``, ``severity``, ``explanation`` (str).
edges, traits
    As in :mod:`hubgenome.analytics.drift`; ``traits`` carries the licence ids per model (list[str]).
"""

from __future__ import annotations

import polars as pl

from hubgenome.analytics._graph import require_columns
from hubgenome.analytics.drift import edge_traits

_EDGE_KEY = ("child_model_id", "parent_model_id")


def _counts(frame: pl.DataFrame) -> list[pl.Expr]:
    return [
        pl.len().cast(pl.Int64).alias("n_conflicts"),
        pl.struct(_EDGE_KEY).n_unique().cast(pl.Int64).alias("n_edges"),
        pl.col("child_model_id").n_unique().cast(pl.Int64).alias("n_children"),
    ]


def conflicts_by_rule(conflicts: pl.DataFrame, rules: pl.DataFrame | None = None) -> pl.DataFrame:
    """Conflicts per rule; with ``rules``, every rule appears (zero when never broken).

    Returns
    -------
    polars.DataFrame
        ``rule_id`` (str), [``severity``, ``explanation`` (str) when ``rules`` is given],
        ``n_conflicts``, ``n_edges``, ``n_children`` (int), ``share_of_edges`` (float: of all
        conflicting edges), sorted by rule id.

    Examples
    --------
    >>> conflicts = pl.DataFrame({"child_model_id": ["b", "c", "c"], "parent_model_id": ["a", "a", "a"],
    ...                           "rule_id": ["LC01", "LC01", "LC03"]})
    >>> conflicts_by_rule(conflicts).rows()
    [('LC01', 2, 2, 2, 1.0), ('LC03', 1, 1, 1, 0.5)]
    """
    require_columns(conflicts, (*_EDGE_KEY, "rule_id"), "conflicts")
    total_edges = conflicts.select(pl.struct(_EDGE_KEY).n_unique()).item()
    table = conflicts.group_by("rule_id").agg(_counts(conflicts))
    if rules is not None:
        require_columns(rules, ("rule_id",), "rules")
        described = rules.select("rule_id", *[c for c in ("severity", "explanation") if c in rules.columns])
        table = described.join(table, on="rule_id", how="left").with_columns(
            pl.col("n_conflicts", "n_edges", "n_children").fill_null(0)
        )
    return table.with_columns((pl.col("n_edges") / max(total_edges, 1)).alias("share_of_edges")).sort("rule_id")


def conflicts_by_family(
    conflicts: pl.DataFrame,
    model_families: pl.DataFrame | None = None,
    *,
    top_n: int | None = None,
) -> pl.DataFrame:
    """Conflicts per family, most conflicting first.

    Parameters
    ----------
    model_families
        ``model_id``, ``family_id`` (e.g. :func:`hubgenome.analytics.lineage.model_families`), used to place
        each conflicting child when ``conflicts`` has no ``family_id`` column.

    Returns
    -------
    polars.DataFrame
        ``family_id`` (str), ``n_conflicts``, ``n_edges``, ``n_children``, ``n_rules`` (int).
    """
    require_columns(conflicts, (*_EDGE_KEY, "rule_id"), "conflicts")
    frame = conflicts
    if "family_id" not in frame.columns:
        if model_families is None:
            msg = "conflicts has no family_id column: pass model_families (model_id, family_id) to place children."
            raise ValueError(msg)
        frame = frame.join(
            model_families.select(pl.col("model_id").alias("child_model_id"), "family_id"),
            on="child_model_id",
            how="left",
        )
    table = (
        frame.group_by("family_id")
        .agg(*_counts(frame), pl.col("rule_id").n_unique().cast(pl.Int64).alias("n_rules"))
        .sort(["n_conflicts", "family_id"], descending=[True, False], nulls_last=True)
    )
    return table.head(top_n) if top_n is not None else table


def conflicts_by_year(conflicts: pl.DataFrame, models: pl.DataFrame | None = None) -> pl.DataFrame:
    """Conflicts by the year the child was created.

    Parameters
    ----------
    conflicts
        Needs ``child_created_at`` (datetime), unless ``models`` is given.
    models
        ``model_id``, ``created_at`` (e.g. ``dim_models``), joined on the child when ``conflicts``
        lacks ``child_created_at`` (``fct_license_conflicts`` does not carry it).

    Returns
    -------
    polars.DataFrame
        ``year`` (int, null for children without a creation date), ``n_conflicts``, ``n_edges``,
        ``n_children`` (int).
    """
    require_columns(conflicts, (*_EDGE_KEY, "rule_id"), "conflicts")
    frame = conflicts
    if "child_created_at" not in frame.columns:
        if models is None:
            msg = "conflicts has no child_created_at column: pass models (model_id, created_at) to date the children."
            raise ValueError(msg)
        require_columns(models, ("model_id", "created_at"), "models")
        frame = frame.join(
            models.select(pl.col("model_id").alias("child_model_id"), pl.col("created_at").alias("child_created_at")),
            on="child_model_id",
            how="left",
        )
    frame = frame.with_columns(pl.col("child_created_at").dt.year().alias("year"))
    return frame.group_by("year").agg(_counts(frame)).sort("year", nulls_last=True)


def relicensing_violation_share(
    edges: pl.DataFrame,
    traits: pl.DataFrame,
    conflicts: pl.DataFrame,
    column: str = "license_ids",
) -> pl.DataFrame:
    """The share of relicensing edges that break an upstream obligation (the paper's missing number).

    A relicensing edge has licences declared on both sides and the child's set differs from the
    parent's. It breaks an obligation when ``conflicts`` flags it under any rule. Conflicts on edges
    whose child declares no licence (a ``missing`` rule) are counted apart, since they are not
    relicensing.

    Returns
    -------
    polars.DataFrame
        One row: ``n_edges_both_licensed``, ``n_relicensing_edges``, ``n_relicensing_with_conflict``
        (int), ``share_relicensing_with_conflict`` (float, null without relicensing edges),
        ``n_conflict_edges_child_unlicensed`` (int).

    Examples
    --------
    >>> edges = pl.DataFrame({"child_model_id": ["b", "c"], "parent_model_id": ["a", "a"]})
    >>> traits = pl.DataFrame({"model_id": ["a", "b", "c"], "license_ids": [["llama3"], ["apache-2.0"], ["mit"]]})
    >>> conflicts = pl.DataFrame({"child_model_id": ["b"], "parent_model_id": ["a"], "rule_id": ["LC01"]})
    >>> relicensing_violation_share(edges, traits, conflicts)["share_relicensing_with_conflict"].item()
    0.5
    """
    require_columns(conflicts, (*_EDGE_KEY, "rule_id"), "conflicts")
    flagged = conflicts.select(_EDGE_KEY).unique().with_columns(pl.lit(True).alias("has_conflict"))
    frame = (
        edge_traits(edges, traits, column)
        .unique(list(_EDGE_KEY))
        .join(flagged, on=list(_EDGE_KEY), how="left")
        .with_columns(pl.col("has_conflict").fill_null(False))
    )
    parent_licensed = pl.col("parent_values").list.len() > 0
    child_licensed = pl.col("child_values").list.len() > 0
    both = parent_licensed & child_licensed
    relicensed = both & (pl.col("parent_values") != pl.col("child_values"))
    row = frame.select(
        both.sum().cast(pl.Int64).alias("n_edges_both_licensed"),
        relicensed.sum().cast(pl.Int64).alias("n_relicensing_edges"),
        (relicensed & pl.col("has_conflict")).sum().cast(pl.Int64).alias("n_relicensing_with_conflict"),
        (~child_licensed & pl.col("has_conflict")).sum().cast(pl.Int64).alias("n_conflict_edges_child_unlicensed"),
    )
    share = pl.when(pl.col("n_relicensing_edges") > 0).then(
        pl.col("n_relicensing_with_conflict") / pl.col("n_relicensing_edges")
    )
    return row.with_columns(share.alias("share_relicensing_with_conflict")).select(
        "n_edges_both_licensed",
        "n_relicensing_edges",
        "n_relicensing_with_conflict",
        "share_relicensing_with_conflict",
        "n_conflict_edges_child_unlicensed",
    )

"""The reproduction table: the paper's published numbers beside ours, with a one-line reading of each.

Our corpora are older or smaller than the paper's 2025-07-12 snapshot (``hub-2024-07`` is the whole
Hub a year earlier, without typed ``base_model:<relation>:`` tags or cards; ``trees-2025-04`` is a
set of complete fine-tune trees), so levels differ; what must hold is the *direction* of each
finding. This module maps analytics results onto the paper's metric names (``our_metrics``), lines
them up with ``anatomy-2025-07.csv`` (``reproduction_table``) and checks the paper's directional
findings (``direction_checks``). Metrics our data cannot compute stay in the table, marked so, with
the reason.

Input frames
------------
paper
    ``anatomy-2025-07.csv``: ``metric``, ``value`` (float), ``unit``, ``scope``, ``source`` (str).
ours
    ``metric`` (str), ``value`` (float), ``corpus`` (str), ``as_of`` (str date), ``note`` (str).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from hubgenome.analytics._graph import require_columns

PAPER_DATE = "2025-07-12"
OURS_SCHEMA = {"metric": pl.String, "value": pl.Float64, "corpus": pl.String, "as_of": pl.String, "note": pl.String}

TOP_FANOUT_PARENTS = {
    "top_fanout_flux1_dev": "black-forest-labs/FLUX.1-dev",
    "top_fanout_qwen15_05b": "Qwen/Qwen1.5-0.5B",
    "top_fanout_qwen15_18b": "Qwen/Qwen1.5-1.8B",
    "top_fanout_gemma_2b": "google/gemma-2b",
}
# (metric, model column, value, denominator): shares of the paper's ecosystem megafigure
TRAIT_SHARES = {
    "license_share_apache_2_0": ("license_ids", "apache-2.0", "all"),
    "license_share_mit": ("license_ids", "mit", "all"),
    "task_share_text_generation": ("pipeline_tag", "text-generation", "with_value"),
    "language_share_english": ("language_codes", "en", "with_value"),
    "library_share_transformers": ("library_name", "transformers", "with_value"),
    "library_share_peft": ("library_name", "peft", "with_value"),
}
# (finding, smaller metric, larger metric): the paper's directional results
_PC = "parent_child"
DIRECTIONS = (
    ("cards shorten from parent to child", "card_length_child_mean", "card_length_parent_mean"),
    ("languages shrink from parent to child", "languages_child_mean", "languages_parent_mean"),
    ("auto-generated cards rise on finetune edges", "autogen_finetune_parent", "autogen_finetune_child"),
    ("metadata: siblings above parent–child", f"similarity_metadata_tfidf_{_PC}", "similarity_metadata_tfidf_siblings"),
    ("metadata: parent–child above random pairs", "similarity_metadata_tfidf_random",
     f"similarity_metadata_tfidf_{_PC}"),
    ("cards: siblings above parent–child (TF-IDF)", f"similarity_card_tfidf_{_PC}", "similarity_card_tfidf_siblings"),
    ("cards: siblings above parent–child (Levenshtein)", f"similarity_card_levenshtein_{_PC}",
     "similarity_card_levenshtein_siblings"),
    ("cards: parent–child above random pairs", "similarity_card_tfidf_random", f"similarity_card_tfidf_{_PC}"),
)  # fmt: skip


def _row(metric: str, value: float | None, corpus: str, as_of: str, note: str = "") -> dict:
    return {
        "metric": metric,
        "value": None if value is None else float(value),
        "corpus": corpus,
        "as_of": as_of,
        "note": note,
    }


def our_metrics(
    *,
    corpus: str,
    as_of: str,
    models: pl.DataFrame | None = None,
    edges: pl.DataFrame | None = None,
    weak_components: int | None = None,
    top_parents: pl.DataFrame | None = None,
    children_with_children: pl.DataFrame | None = None,
    card_drift: pl.DataFrame | None = None,
    language_drift: pl.DataFrame | None = None,
    mutation_rates: pl.DataFrame | None = None,
    orderings: pl.DataFrame | None = None,
    similarity_metadata: pl.DataFrame | None = None,
    similarity_cards: pl.DataFrame | None = None,
    eligible_cards: int | None = None,
    trait_names: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Our values under the paper's metric names, from whichever analytics results are given.

    Parameters
    ----------
    models
        ``dim_models``-like: ``model_id``, ``license_ids``, ``language_codes`` (list[str]),
        ``pipeline_tag``, ``library_name`` (str), optionally ``has_card`` (bool).
    edges
        Non-dangling, non-self-loop edges: ``relation``, optionally ``has_typed_tag`` (the paper
        counted relations from typed tags only).
    top_parents, children_with_children, card_drift, language_drift, mutation_rates, orderings
        Frames from :mod:`hubgenome.analytics.lineage` and :mod:`hubgenome.analytics.drift` (orderings: from
        ``orderings_table``).
    similarity_metadata, similarity_cards
        Frames from :func:`hubgenome.analytics.similarity.similarity_table`.
    trait_names
        Our trait column → the paper's word (``{"language_codes": "language", "license_ids":
        "license", "pipeline_tag": "task", "library_name": "library"}`` by default).

    Returns
    -------
    polars.DataFrame
        ``metric``, ``value``, ``corpus``, ``as_of``, ``note``; only metrics that could be computed.
    """
    names = dict(
        trait_names
        or {"language_codes": "language", "license_ids": "license", "pipeline_tag": "task", "library_name": "library"}
    )
    rows: list[dict] = []
    add = lambda metric, value, note="": rows.append(_row(metric, value, corpus, as_of, note))  # noqa: E731
    if models is not None:
        add("models_in_snapshot", models.height)
        for metric, (column, value, denominator) in TRAIT_SHARES.items():
            if column not in models.columns:
                continue
            values = models[column]
            if isinstance(values.dtype, pl.List):
                has = values.list.contains(value).fill_null(False)
                nonempty = values.list.len().fill_null(0) > 0
            else:
                has = (values == value).fill_null(False)
                nonempty = values.is_not_null() & (values != "")
            base = models.height if denominator == "all" else int(nonempty.sum())
            if base:
                add(
                    metric,
                    has.sum() / base,
                    "share of all models" if denominator == "all" else "share of models with a value",
                )
        if "has_card" in models.columns and models["has_card"].any():
            add("share_models_with_card", models["has_card"].mean())
    if edges is not None:
        add("edges_parent_in_snapshot", edges.height)
        typed = edges.filter(pl.col("has_typed_tag")) if "has_typed_tag" in edges.columns else edges
        if typed.height:
            counts = dict(typed.group_by("relation").len().iter_rows())
            for relation in ("finetune", "adapter", "quantized", "merge"):
                add(f"edges_{relation}", counts.get(relation, 0), "typed tags only")
            add("edges_non_merge", edges.height - counts.get("merge", 0))
            add("edges_untyped", edges.height - typed.height, "edges without a typed tag")
    if weak_components is not None:
        add("weakly_connected_components", weak_components)
    if top_parents is not None:
        overall = dict(
            top_parents.filter(pl.col("relation") == "all").select("parent_model_id", "n_children").iter_rows()
        )
        for metric, parent in TOP_FANOUT_PARENTS.items():
            if parent in overall:
                add(metric, overall[parent], "distinct children, any relation")
    if children_with_children is not None:
        for relation, _, _, share in children_with_children.iter_rows():
            if relation in ("finetune", "quantized", "adapter"):
                add(f"share_{relation}_children_with_children", share)
    if eligible_cards is not None:
        add("eligible_cards_512", eligible_cards)
    if card_drift is not None:
        by_relation = {row["relation"]: row for row in card_drift.iter_rows(named=True)}
        if "all" in by_relation and by_relation["all"]["n_edges"]:
            overall_row = by_relation["all"]
            add("card_length_parent_mean", overall_row["parent_length_mean"], f"n = {overall_row['n_edges']}")
            add("card_length_child_mean", overall_row["child_length_mean"], f"n = {overall_row['n_edges']}")
            add("autogen_delta_child_minus_parent", overall_row["auto_generated_delta"])
        if "finetune" in by_relation and by_relation["finetune"]["n_edges"]:
            add("autogen_finetune_parent", by_relation["finetune"]["parent_auto_generated_share"])
            add("autogen_finetune_child", by_relation["finetune"]["child_auto_generated_share"])
    if language_drift is not None:
        overall_rows = language_drift.filter(pl.col("relation") == "all")
        if overall_rows.height and overall_rows["n_edges"][0]:
            note = f"n = {overall_rows['n_edges'][0]}"
            add("languages_parent_mean", overall_rows["parent_mean"][0], note)
            add("languages_child_mean", overall_rows["child_mean"][0], note)
    if mutation_rates is not None:
        for trait, n_edges, _, rate in mutation_rates.iter_rows():
            if rate is not None and names.get(trait) in ("language", "license", "task"):
                add(f"mutation_rate_{names[trait]}", rate, f"n = {n_edges}")
    if orderings is not None:
        for row in orderings.iter_rows(named=True):
            if row["forward_share"] is not None and row["trait"] in names:
                add(f"ordering_forward_share_{names[row['trait']]}", row["forward_share"], f"top {row['n_values']}")
    for kind, table in (("metadata", similarity_metadata), ("card", similarity_cards)):
        if table is None:
            continue
        lookup = {(r["motif"], r["config"], r["measure"]): r for r in table.iter_rows(named=True)}
        for measure in ("tfidf", "levenshtein"):
            for suffix, key in (("random", ("rando", 1)), ("parent_child", ("trio_1", 1)), ("siblings", ("trio_1", 2))):
                row = lookup.get((*key, measure))
                if row is not None and row["n_pairs"]:
                    note = f"95% CI {row['ci_low']:.3f}–{row['ci_high']:.3f}, {row['n_pairs']} pairs"
                    add(f"similarity_{kind}_{measure}_{suffix}", row["mean"], note)
    return pl.DataFrame(rows, schema=OURS_SCHEMA)


def _reading(metric: str, unit: str, paper: float, ours: float, as_of: str) -> str:
    if unit in ("models", "edges", "components", "children"):
        return (
            f"{ours / paper:.1%} of the paper's count: our corpus ({as_of}) is older or smaller than its "
            f"{PAPER_DATE} snapshot."
        )
    difference = ours - paper
    if abs(difference) <= 0.02 * max(abs(paper), 1e-9) or (
        unit in ("share", "probability", "cosine", "similarity", "1-jaccard") and abs(difference) < 0.02
    ):
        return "Matches the paper within 0.02."
    direction = "above" if difference > 0 else "below"
    return (
        f"{abs(difference):.3g} {direction} the paper; levels move with corpus date and scope (see direction checks)."
    )


def reproduction_table(
    paper: pl.DataFrame,
    ours: pl.DataFrame,
    unavailable: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Every metric of the paper beside ours, or marked not computable with the reason.

    Parameters
    ----------
    unavailable
        Metric → why our data cannot compute it (e.g. "hub-2024-07 has no cards"); metrics neither
        in ``ours`` nor here get a generic reason.

    Returns
    -------
    polars.DataFrame
        ``metric``, ``unit``, ``paper_value`` (float), ``our_value`` (float, null when not
        computable), ``corpus``, ``as_of``, ``status`` ("computed" | "not computable"), ``reading``,
        in the paper's row order.

    Examples
    --------
    >>> paper = pl.DataFrame({"metric": ["models_in_snapshot"], "value": [1860411.0], "unit": ["models"]})
    >>> ours = our_metrics(corpus="hub-2024-07", as_of="2024-07-11", models=pl.DataFrame({"model_id": ["a"] * 930205}))
    >>> reproduction_table(paper, ours)["reading"][0][:30]
    "50.0% of the paper's count: ou"
    """
    require_columns(paper, ("metric", "value", "unit"), "paper")
    require_columns(ours, ("metric", "value", "corpus", "as_of"), "ours")
    reasons = dict(unavailable or {})
    known = {row["metric"]: row for row in ours.iter_rows(named=True)}
    rows = []
    for metric, value, unit in paper.select("metric", pl.col("value").cast(pl.Float64), "unit").iter_rows():
        mine = known.get(metric)
        if mine is None or mine["value"] is None:
            reason = reasons.get(metric, "not computed from our corpora (no input for it was given)")
            rows.append((metric, unit, value, None, None, None, "not computable", reason))
            continue
        reading = _reading(metric, unit, value, mine["value"], mine["as_of"])
        if mine.get("note"):
            reading = f"{reading} ({mine['note']})"
        rows.append((metric, unit, value, mine["value"], mine["corpus"], mine["as_of"], "computed", reading))
    return pl.DataFrame(
        rows,
        schema={
            "metric": pl.String,
            "unit": pl.String,
            "paper_value": pl.Float64,
            "our_value": pl.Float64,
            "corpus": pl.String,
            "as_of": pl.String,
            "status": pl.String,
            "reading": pl.String,
        },
        orient="row",
    )


def direction_checks(ours: pl.DataFrame) -> pl.DataFrame:
    """Does each of the paper's directional findings hold in our data?

    Returns
    -------
    polars.DataFrame
        ``finding`` (str), ``holds`` (bool, null when either side is missing), ``detail`` (str).

    Examples
    --------
    >>> ours = pl.DataFrame({"metric": ["card_length_child_mean", "card_length_parent_mean"], "value": [4.0, 9.0]})
    >>> direction_checks(ours).row(0)
    ('cards shorten from parent to child', True, 'card_length_child_mean 4 < card_length_parent_mean 9')
    """
    require_columns(ours, ("metric", "value"), "ours")
    values = dict(ours.select("metric", "value").iter_rows())
    rows = []
    for finding, smaller, larger in DIRECTIONS:
        low, high = values.get(smaller), values.get(larger)
        if low is None or high is None:
            missing = [m for m, v in ((smaller, low), (larger, high)) if v is None]
            rows.append((finding, None, f"not computable: {', '.join(missing)} missing"))
        else:
            sign = "<" if low < high else "≥"
            rows.append((finding, bool(low < high), f"{smaller} {low:.4g} {sign} {larger} {high:.4g}"))
    return pl.DataFrame(rows, schema={"finding": pl.String, "holds": pl.Boolean, "detail": pl.String}, orient="row")


def license_flow_direction(counts: pl.DataFrame, taxonomy: pl.DataFrame) -> pl.DataFrame:
    """Do licence transitions flow from restrictive (commercial/custom, use-restricted) toward open?

    Parameters
    ----------
    counts
        :func:`hubgenome.analytics.drift.transition_counts` on licence ids.
    taxonomy
        The ``license_taxonomy`` seed: ``license_id``, ``license_category``.

    Returns
    -------
    polars.DataFrame
        One row: ``restrictive_to_open``, ``open_to_restrictive`` (int transitions between the two
        groups), ``share_toward_open`` (float, null without such transitions).
    """
    require_columns(taxonomy, ("license_id", "license_category"), "taxonomy")
    group = taxonomy.select(
        "license_id",
        pl.when(pl.col("license_category").is_in(["commercial_custom", "use_restricted"]))
        .then(pl.lit("restrictive"))
        .when(pl.col("license_category").is_in(["permissive", "copyleft"]))
        .then(pl.lit("open"))
        .alias("group"),
    )
    joined = counts.join(group.rename({"license_id": "source", "group": "source_group"}), on="source").join(
        group.rename({"license_id": "target", "group": "target_group"}), on="target"
    )
    forward = joined.filter((pl.col("source_group") == "restrictive") & (pl.col("target_group") == "open"))
    backward = joined.filter((pl.col("source_group") == "open") & (pl.col("target_group") == "restrictive"))
    n_forward, n_backward = int(forward["n_transitions"].sum()), int(backward["n_transitions"].sum())
    total = n_forward + n_backward
    return pl.DataFrame(
        {
            "restrictive_to_open": [n_forward],
            "open_to_restrictive": [n_backward],
            "share_toward_open": [n_forward / total if total else None],
        },
        schema={"restrictive_to_open": pl.Int64, "open_to_restrictive": pl.Int64, "share_toward_open": pl.Float64},
    )

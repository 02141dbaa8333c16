"""Family safety evidence: which lineages have safety evaluations, and how much of their use they cover.

Fine-tuning is known to erode safety alignment (NeST v2 reports a mean attack success rate on
downstream fine-tuned variants before repair well above its bases': ``reference.nest_published_figures``).
A safety result on a base model therefore says little about its fine-tuned descendants. This module
joins safety evaluations to lineage families: each evaluated member's scores before and after a
defence, and each family's share of downloads under an evaluated model. Where each un-evaluated model
stands relative to its nearest evaluated ancestor (distance, relations, rank by downloads) is the mart
``fct_family_safety``, which the report reads; the wording of both is here (``evidence_caveat``,
``evidence_phrase``).

It never invents per-model scores: published figures (NeST) are population means and are reported
as such; per-model rows come only from evaluations someone measured (``fct_safety_evaluations``: the
bundled reference set and the user's imports). With no per-model rows every per-model frame is empty
and ``status`` says so.

Input frames
------------
evaluations
    ``fct_safety_evaluations`` (Hub models only): ``model_id``, ``method``, ``attack_or_benchmark``, ``metric``
    (str), ``value`` (float), ``source`` (str). ``method`` "no defense" (or another name in
    :data:`BASELINE_METHODS`) marks the score before a defence.
published
    The ``nest_published_figures`` seed: ``paper_version``, ``population``, ``metric``, ``method``,
    ``value``, ``unit``, ``source`` (population means, not per-model).
models
    ``model_id`` (str), ``downloads`` (int), optionally ``family_id`` (str).
edges
    ``child_model_id``, ``parent_model_id``, ``relation`` (str).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from hubgenome.analytics._graph import Digraph, build_digraph, descendants, require_columns
from hubgenome.analytics.lineage import model_families

BASELINE_METHODS = ("no defense", "none", "baseline", "no_defense")
ATTACK_SUCCESS_RATE = "attack_success_rate"
NO_EVALUATIONS = "no per-model evaluations"
#: NeST's newest published mean attack success rate on downstream fine-tuned variants with no defence,
#: the figure :func:`evidence_caveat` quotes (the report and the dashboard both read it with this query).
NEST_FINE_TUNED_FIGURE_SQL = """
    select paper_version, population, value, unit, source
    from reference.nest_published_figures
    where population ilike '%fine-tuned%' and metric = 'attack_success_rate_mean' and method = 'no defense'
    order by paper_version desc
    limit 1
"""

_MEMBERS_SCHEMA = {
    "family_id": pl.String,
    "model_id": pl.String,
    "attack_or_benchmark": pl.String,
    "metric": pl.String,
    "method": pl.String,
    "value_before": pl.Float64,
    "value_after": pl.Float64,
    "source": pl.String,
}
_FAMILIES_SCHEMA = {
    "family_id": pl.String,
    "family_size": pl.Int64,
    "family_downloads": pl.Int64,
    "n_evaluated_members": pl.Int64,
    "n_models_under_evaluated": pl.Int64,
    "downloads_under_evaluated": pl.Int64,
    "share_downloads_under_evaluated": pl.Float64,
}


@dataclass(frozen=True)
class SafetyEvidence:
    """Everything the report shows about safety, per family.

    Attributes
    ----------
    status
        ``"no per-model evaluations"`` or ``"<rows> per-model evaluation rows for <models> models"``.
    published
        The published population figures, unchanged (never spread onto models).
    evaluated_members
        One row per (model, benchmark, metric, defence method): ``family_id``, ``model_id``,
        ``attack_or_benchmark``, ``metric``, ``method`` (the defence; null when only a baseline was
        given), ``value_before`` (the baseline score), ``value_after``, ``source``.
    families
        One row per family with an evaluated member: ``family_id``, ``family_size``,
        ``family_downloads``, ``n_evaluated_members``, ``n_models_under_evaluated``,
        ``downloads_under_evaluated``, ``share_downloads_under_evaluated`` (models that are
        evaluated or descend from an evaluated model).
    """

    status: str
    published: pl.DataFrame
    evaluated_members: pl.DataFrame
    families: pl.DataFrame


def family_safety_evidence(
    evaluations: pl.DataFrame,
    models: pl.DataFrame,
    edges: pl.DataFrame,
    published: pl.DataFrame | None = None,
    *,
    graph: Digraph | None = None,
) -> SafetyEvidence:
    """Join safety evaluations to lineage families.

    Parameters
    ----------
    graph
        A prebuilt graph over ``models`` (every relation) to use instead of building one from
        ``edges``.

    Examples
    --------
    >>> models = pl.DataFrame({"model_id": ["base", "ft"], "downloads": [10, 90]})
    >>> edges = pl.DataFrame({"child_model_id": ["ft"], "parent_model_id": ["base"], "relation": ["finetune"]})
    >>> empty = pl.DataFrame(schema={"model_id": pl.String, "method": pl.String, "attack_or_benchmark": pl.String,
    ...                              "metric": pl.String, "value": pl.Float64, "source": pl.String})
    >>> family_safety_evidence(empty, models, edges).status
    'no per-model evaluations'
    """
    require_columns(
        evaluations, ("model_id", "method", "attack_or_benchmark", "metric", "value", "source"), "evaluations"
    )
    require_columns(models, ("model_id", "downloads"), "models")
    published = published if published is not None else pl.DataFrame()
    if evaluations.height == 0:
        return SafetyEvidence(
            status=NO_EVALUATIONS,
            published=published,
            evaluated_members=pl.DataFrame(schema=_MEMBERS_SCHEMA),
            families=pl.DataFrame(schema=_FAMILIES_SCHEMA),
        )
    if "family_id" in models.columns:
        family = models.select("model_id", "family_id")
    else:
        family = model_families(edges, models["model_id"], include_merges=False).select("model_id", "family_id")
    downloads = models.select("model_id", pl.col("downloads").fill_null(0).cast(pl.Int64))

    evaluated_ids = evaluations["model_id"].unique().sort()
    is_baseline = pl.col("method").str.to_lowercase().is_in(list(BASELINE_METHODS))
    key = ["model_id", "attack_or_benchmark", "metric"]
    before = (
        evaluations.filter(is_baseline)
        .group_by(key)
        .agg(pl.col("value").mean().alias("value_before"), pl.col("source").sort().first().alias("source_before"))
    )
    after = evaluations.filter(~is_baseline).select(*key, "method", pl.col("value").alias("value_after"), "source")
    members = (
        after.join(before, on=key, how="full", coalesce=True)
        .with_columns(pl.coalesce("source", "source_before").alias("source"))
        .join(family, on="model_id", how="left")
        .select(list(_MEMBERS_SCHEMA))
        .cast(_MEMBERS_SCHEMA)
        .sort(["family_id", "model_id", "attack_or_benchmark", "metric", "method"], nulls_last=True)
    )

    graph = graph if graph is not None else build_digraph(edges, models["model_id"])
    sources = graph.index_of(evaluated_ids)
    sources = sources[sources >= 0]
    reached, _, _ = descendants(graph, sources)
    under = np.zeros(graph.n_nodes, dtype=bool)
    under[sources] = True
    under[reached] = True
    under_frame = pl.DataFrame({"model_id": graph.ids, "is_under_evaluated": under})
    families = (
        family.join(downloads, on="model_id", how="left")
        .join(under_frame, on="model_id", how="left")
        .with_columns(
            pl.col("downloads").fill_null(0),
            pl.col("is_under_evaluated").fill_null(False),
            pl.col("model_id").is_in(evaluated_ids.implode()).alias("is_evaluated"),
        )
        .group_by("family_id")
        .agg(
            pl.len().cast(pl.Int64).alias("family_size"),
            pl.col("downloads").sum().cast(pl.Int64).alias("family_downloads"),
            pl.col("is_evaluated").sum().cast(pl.Int64).alias("n_evaluated_members"),
            pl.col("is_under_evaluated").sum().cast(pl.Int64).alias("n_models_under_evaluated"),
            pl.col("downloads")
            .filter(pl.col("is_under_evaluated"))
            .sum()
            .cast(pl.Int64)
            .alias("downloads_under_evaluated"),
        )
        .filter(pl.col("n_evaluated_members") > 0)
        .with_columns(
            pl.when(pl.col("family_downloads") > 0)
            .then(pl.col("downloads_under_evaluated") / pl.col("family_downloads"))
            .alias("share_downloads_under_evaluated")
        )
        .select(list(_FAMILIES_SCHEMA))
        .sort(["family_downloads", "family_id"], descending=[True, False])
    )

    n_models = evaluated_ids.len()
    return SafetyEvidence(
        status=f"{evaluations.height} per-model evaluation rows for {n_models} models",
        published=published,
        evaluated_members=members,
        families=families,
    )


# --- wording for the report's family safety view --------------------------------------------------
# The dashboard words the same facts in hubgenome.app.safety_evidence (the app imports nothing from
# analytics); tests/analytics/test_safety.py checks that both give the same sentences.

_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def evidence_caveat(figure: Mapping[str, Any] | None) -> str:
    """What an ancestor's evaluation does and does not say about its descendants, in plain words.

    ``figure`` is NeST's published mean ASR on downstream fine-tuned variants before repair (a row of
    ``reference.nest_published_figures``: ``paper_version``, ``population``, ``value``, ``unit``,
    ``source``), or ``None`` when the warehouse lacks it.

    Examples
    --------
    >>> evidence_caveat(None).split(".")[0]
    'Fine-tuning is known to erode safety alignment'
    """
    erosion = "Fine-tuning is known to erode safety alignment"
    if figure is not None:
        unit = " %" if figure["unit"] == "percent" else f" {figure['unit']}"
        erosion += (
            f" (NeST {figure['paper_version'].split(' ')[0]} measured a mean attack success rate of "
            f"{figure['value']:g}{unit} on {figure['population']} before repair, {figure['source']})"
        )
    return (
        f"{erosion}. An evaluation describes the model that was evaluated. A descendant that was not evaluated "
        "is shown its nearest evaluated ancestor's results, labelled as the ancestor's, with the lineage edges "
        "between them: that is where to start looking, not its own score. No score is estimated, copied or "
        "averaged for a model that has no evaluation of its own."
    )


def evidence_phrase(evaluations: pl.DataFrame) -> str:
    """``"ASR 0–94 % across five attacks, 2024"``: one model's evaluation rows in a few words.

    ``evaluations`` has ``attack_or_benchmark``, ``metric``, ``value``, ``unit`` and ``evaluated_on`` (a date).

    Examples
    --------
    >>> import datetime as dt
    >>> rows = pl.DataFrame({"attack_or_benchmark": ["PAIR", "GCG"], "metric": [ATTACK_SUCCESS_RATE] * 2,
    ...                      "value": [0.0, 94.0], "unit": ["percent"] * 2,
    ...                      "evaluated_on": [dt.date(2024, 3, 6), dt.date(2024, 10, 14)]})
    >>> evidence_phrase(rows)
    'ASR 0–94 % across two attacks, 2024'
    """
    years = evaluations["evaluated_on"].drop_nulls().dt.year()
    when = "undated" if years.is_empty() else "–".join(dict.fromkeys(str(y) for y in (years.min(), years.max())))
    asr = evaluations.filter(pl.col("metric") == ATTACK_SUCCESS_RATE)
    if asr.is_empty():
        return f"{evaluations.height} evaluation row(s), {when}"
    attacks = asr["attack_or_benchmark"].n_unique()
    unit = asr["unit"].drop_nulls().first() if asr["unit"].null_count() < asr.height else None
    unit = " %" if unit == "percent" else (f" {unit}" if unit else "")
    low, high = asr["value"].min(), asr["value"].max()
    values = f"{low:g}{unit}" if low == high else f"{low:g}–{high:g}{unit}"
    count = "one attack" if attacks == 1 else f"{_COUNT_WORDS[attacks] if attacks < 11 else f'{attacks:,}'} attacks"
    return f"ASR {values} across {count}, {when}"

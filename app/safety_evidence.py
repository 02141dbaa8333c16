"""What the Safety page, Model lookup and Family explorer read about safety: NeST's published figures
(a reference seed), the per-model evaluations (``fct_safety_evaluations``: the bundled JailbreakBench
2024 reference set and the user's imports, each labelled) and where every model of an evaluated family
stands relative to its nearest evaluated ancestor (``fct_family_safety``); the Safety page's analytics
tables are read whole, with :func:`hubgenome.app.warehouse.analytics_table`.

Nothing here gives an un-evaluated model a score: it is shown the evidence of its nearest evaluated
ancestor, labelled as that ancestor's, with the distance and relations between them.
"""

from __future__ import annotations

from typing import Any

import polars as pl

# the report's wording of what the evidence does and does not imply, shown on the pages too
from hubgenome.analytics.safety import NEST_FINE_TUNED_FIGURE_SQL
from hubgenome.analytics.safety import evidence_caveat as evidence_caveat
from hubgenome.app.warehouse import WarehouseFile, frame, has_column, has_table, row

#: The columns of a file for ``hubgenome safety import``, required first (the importer,
#: ``hubgenome.flows.safety_import``, validates them; the app only shows how to write one).
IMPORT_FILE_COLUMNS = (
    "model_id",
    "method",
    "attack_or_benchmark",
    "metric",
    "value",
    "source",
    "unit",
    "evaluated_on",
)
ATTACK_SUCCESS_RATE = "attack_success_rate"
#: How a relation reads in a sentence, singular and plural.
RELATION_WORDS = {
    "finetune": ("fine-tune", "fine-tunes"),
    "adapter": ("adapter", "adapters"),
    "quantized": ("quantization", "quantizations"),
    "merge": ("merge", "merges"),
}
_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def nest_published(wh: WarehouseFile) -> pl.DataFrame:
    """NeST's published figures (``reference.nest_published_figures``), population means only."""
    return frame(wh, "select * from reference.nest_published_figures order by paper_version, population, metric")


def nest_fine_tuned_figure(wh: WarehouseFile) -> dict[str, Any] | None:
    """NeST's newest published mean attack success rate on downstream fine-tuned variants with no defence."""
    return row(wh, NEST_FINE_TUNED_FIGURE_SQL)


def safety_evaluations(wh: WarehouseFile) -> pl.DataFrame | None:
    """Every per-model evaluation (``fct_safety_evaluations``); ``None`` on an older warehouse.

    A warehouse built before the bundled reference set has no ``evidence_label``: its rows are user imports.
    """
    if not has_table(wh, "main.fct_safety_evaluations"):
        return None
    labelled = has_column(wh, "fct_safety_evaluations", "evidence_label")
    label = "evidence_label" if labelled else "'user import' as evidence_label"
    name = "evaluated_model_name" if labelled else "model_id as evaluated_model_name"
    return frame(
        wh,
        f"select {label}, {name}, model_id, is_model_in_warehouse, method, attack_or_benchmark, metric, value, "
        "unit, evaluated_on, source from main.fct_safety_evaluations "
        "order by evidence_label, evaluated_model_name, method, attack_or_benchmark, metric",
    )


def has_family_safety(wh: WarehouseFile) -> bool:
    """Whether the warehouse has ``fct_family_safety`` (built by hubgenome with the family safety view)."""
    return has_table(wh, "main.fct_family_safety")


def model_evaluations(wh: WarehouseFile, model_id: str) -> pl.DataFrame:
    """One model's own evaluations: every attack or benchmark with its value, date, source and label."""
    return frame(
        wh,
        """
        select attack_or_benchmark, method, metric, value, unit, strftime(evaluated_on, '%Y-%m-%d') as evaluated_on,
            evidence_label, source
        from main.fct_safety_evaluations
        where model_id = ?
        order by attack_or_benchmark, method, metric, evaluated_on
        """,
        (model_id,),
    )


def evidence_summaries(wh: WarehouseFile) -> pl.DataFrame:
    """One row per evaluated model of this warehouse: its attack success rates' range, attacks, years,
    evidence labels, and how many un-evaluated models (and downloads) hang below it."""
    return frame(
        wh,
        f"""
        with evaluations as (
            select * from main.fct_safety_evaluations where is_model_in_warehouse
        ),
        asr as (
            select
                model_id,
                count(distinct attack_or_benchmark) filter (where metric = '{ATTACK_SUCCESS_RATE}') as attacks,
                min(value) filter (where metric = '{ATTACK_SUCCESS_RATE}') as asr_min,
                max(value) filter (where metric = '{ATTACK_SUCCESS_RATE}') as asr_max,
                any_value(unit) filter (where metric = '{ATTACK_SUCCESS_RATE}') as asr_unit,
                min(year(evaluated_on)) as first_year,
                max(year(evaluated_on)) as last_year,
                count(*) as evaluation_rows,
                string_agg(distinct evidence_label, '; ' order by evidence_label) as evidence
            from evaluations
            group by 1
        ),
        below as (
            select
                nearest_evaluated_model_id as model_id,
                count(*) as unevaluated_descendants,
                sum(downloads) as unevaluated_descendant_downloads
            from main.fct_family_safety
            where has_evaluated_ancestor
            group by 1
        )
        select
            asr.model_id, family.family_id, asr.attacks, asr.asr_min, asr.asr_max, asr.asr_unit,
            asr.first_year, asr.last_year, asr.evaluation_rows, asr.evidence,
            coalesce(below.unevaluated_descendants, 0) as unevaluated_descendants,
            coalesce(below.unevaluated_descendant_downloads, 0) as unevaluated_descendant_downloads
        from asr
        inner join main.fct_family_safety as family on asr.model_id = family.model_id
        left join below on asr.model_id = below.model_id
        order by unevaluated_descendant_downloads desc, asr.model_id
        """,
    )


def unevaluated_descendants(wh: WarehouseFile, ancestor_id: str, limit: int = 100) -> pl.DataFrame:
    """The un-evaluated models whose nearest evaluated ancestor is ``ancestor_id``, most downloaded first."""
    return frame(
        wh,
        """
        select download_rank_under_ancestor as rank, model_id, downloads, evaluated_ancestor_distance as distance,
            relation_path, family_id, equally_near_evaluated_ancestors
        from main.fct_family_safety
        where nearest_evaluated_model_id = ? and has_evaluated_ancestor
        order by download_rank_under_ancestor
        limit ?
        """,
        (ancestor_id, limit),
    )


def model_family_safety(wh: WarehouseFile, model_id: str) -> dict[str, Any] | None:
    """The model's row of ``fct_family_safety`` (``None`` when it is in no family with an evaluated member)."""
    return row(wh, "select * from main.fct_family_safety where model_id = ?", (model_id,))


def family_coverage(wh: WarehouseFile, family_id: str) -> dict[str, Any] | None:
    """How far a family is covered by evaluations: members evaluated, below an evaluated member, neither."""
    return row(
        wh,
        """
        select
            count(*) as members,
            count(*) filter (where is_evaluated) as evaluated,
            count(*) filter (where has_evaluated_ancestor) as below_evaluated,
            count(*) filter (where not is_evaluated and not has_evaluated_ancestor) as uncovered,
            sum(downloads) as downloads,
            sum(downloads) filter (where is_evaluated) as evaluated_downloads,
            sum(downloads) filter (where has_evaluated_ancestor) as below_evaluated_downloads
        from main.fct_family_safety
        where family_id = ?
        having count(*) filter (where is_evaluated) > 0
        """,
        (family_id,),
    )


def family_unevaluated(wh: WarehouseFile, family_id: str, limit: int = 100) -> pl.DataFrame:
    """A family's un-evaluated members below an evaluated model, most downloaded first."""
    return frame(
        wh,
        """
        select model_id, downloads, nearest_evaluated_model_id, evaluated_ancestor_distance as distance, relation_path
        from main.fct_family_safety
        where family_id = ? and has_evaluated_ancestor
        order by downloads desc nulls last, model_id
        limit ?
        """,
        (family_id, limit),
    )


def _count(n: int) -> str:
    return _COUNT_WORDS[n] if 0 <= n < len(_COUNT_WORDS) else f"{n:,}"


def evidence_phrase(summary: dict[str, Any]) -> str:
    """``"ASR 0–94 % across five attacks, 2024"`` from a row of :func:`evidence_summaries`."""
    years = summary["first_year"], summary["last_year"]
    when = "undated" if years[0] is None else (f"{years[0]}" if years[0] == years[1] else f"{years[0]}–{years[1]}")
    if not summary["attacks"]:
        return f"{summary['evaluation_rows']} evaluation row(s), {when}"
    unit = " %" if summary["asr_unit"] == "percent" else (f" {summary['asr_unit']}" if summary["asr_unit"] else "")
    low, high = summary["asr_min"], summary["asr_max"]
    values = f"{low:g}{unit}" if low == high else f"{low:g}–{high:g}{unit}"
    attacks = "one attack" if summary["attacks"] == 1 else f"{_count(summary['attacks'])} attacks"
    return f"ASR {values} across {attacks}, {when}"


def distance_phrase(relations: list[str], distance: int) -> str:
    """``"2 fine-tunes away"``; a mixed path reads ``"2 steps away (fine-tune, then quantization)"``."""
    if len(set(relations)) == 1:
        singular, plural = RELATION_WORDS.get(relations[0], (relations[0], relations[0] + "s"))
        return f"{distance} {singular if distance == 1 else plural} away"
    steps = ", then ".join(RELATION_WORDS.get(r, (r, r))[0] for r in relations)
    return f"{distance} steps away ({steps})"


def inheritance_sentence(placed: dict[str, Any], ancestor: dict[str, Any] | None) -> str:
    """``"inherits from X (ASR 0–94 % across five attacks, 2024), 2 fine-tunes away"`` for an un-evaluated model."""
    evidence = f" ({evidence_phrase(ancestor)})" if ancestor is not None else ""
    return (
        f"inherits from {placed['nearest_evaluated_model_id']}{evidence}, "
        f"{distance_phrase(list(placed['relations']), placed['evaluated_ancestor_distance'])}"
    )


def evidence_summary(wh: WarehouseFile, model_id: str) -> dict[str, Any] | None:
    """The row of :func:`evidence_summaries` for one evaluated model."""
    found = evidence_summaries(wh).filter(pl.col("model_id") == model_id)
    return found.row(0, named=True) if found.height else None

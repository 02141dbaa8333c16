"""What the Drift page reads beyond whole analytics tables: the busiest part of a trait's transition
matrix (``analytics.trait_transitions``) and the paper's per-trait values.
"""

from __future__ import annotations

import polars as pl

from hubgenome.app.reproduction import paper_values
from hubgenome.app.warehouse import WarehouseFile, frame, has_table

#: Trait column → (label shown, the paper's word for it in reproduction metric names).
TRAITS = {
    "license_ids": ("Licence", "license"),
    "language_codes": ("Language", "language"),
    "pipeline_tag": ("Task", "task"),
    "library_name": ("Library", "library"),
}
#: The paper's trait word → our trait column.
TRAIT_OF_WORD = {word: trait for trait, (_, word) in TRAITS.items()}


def transitions(wh: WarehouseFile, trait: str, top: int = 15) -> pl.DataFrame | None:
    """(source, target, n_transitions) among the ``top`` busiest values of ``trait`` (the paper's counting,
    ``analytics.trait_transitions``); ``None`` when the warehouse lacks the table.
    """
    if not has_table(wh, "analytics.trait_transitions"):
        return None
    return frame(
        wh,
        """
        with t as (
            select source, target, n_transitions from analytics.trait_transitions where trait = ?
        ),
        busiest as (
            select value from (
                select source as value, n_transitions from t
                union all select target, n_transitions from t
            ) group by value order by sum(n_transitions) desc, value limit ?
        )
        select t.* from t
        where source in (select value from busiest) and target in (select value from busiest)
        order by n_transitions desc
        """,
        (trait, top),
    )


def paper_values_by_trait(wh: WarehouseFile, prefix: str) -> dict[str, float]:
    """The paper's value of each trait for metrics named ``<prefix><word>`` (empty without the table)."""
    rows = paper_values(wh, prefix)
    if rows is None:
        return {}
    return {
        TRAIT_OF_WORD.get(metric.removeprefix(prefix), metric): value
        for metric, value in rows.select("metric", "paper_value").iter_rows()
    }

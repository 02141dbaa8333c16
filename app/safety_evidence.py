"""What the Safety page reads from the reference seeds: NeST's published figures and the per-model
evaluations users added (its analytics tables are read whole, with
:func:`hubgenome.app.warehouse.analytics_table`).
"""

from __future__ import annotations

import polars as pl

from hubgenome.app.warehouse import WarehouseFile, frame


def nest_published(wh: WarehouseFile) -> pl.DataFrame:
    """NeST's published figures (``reference.nest_published_figures``), population means only."""
    return frame(wh, "select * from reference.nest_published_figures order by paper_version, population, metric")


def safety_evaluations(wh: WarehouseFile) -> pl.DataFrame:
    """Every per-model evaluation row (``reference.safety_evaluations``)."""
    return frame(wh, "select * from reference.safety_evaluations order by model_id, method")


def safety_evaluation_columns(wh: WarehouseFile) -> list[str]:
    """The columns of ``reference.safety_evaluations``, in order (what a user's rows must have)."""
    return frame(
        wh,
        "select column_name from duckdb_columns() where database_name = 'warehouse' "
        "and schema_name = 'reference' and table_name = 'safety_evaluations' order by column_index",
    )["column_name"].to_list()

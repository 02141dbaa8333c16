"""What the Safety page reads: NeST's published figures (a reference seed) and the per-model
evaluations the user imported (``fct_safety_evaluations``); its analytics tables are read whole, with
:func:`hubgenome.app.warehouse.analytics_table`).
"""

from __future__ import annotations

import polars as pl

from hubgenome.app.warehouse import WarehouseFile, frame, has_table

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


def nest_published(wh: WarehouseFile) -> pl.DataFrame:
    """NeST's published figures (``reference.nest_published_figures``), population means only."""
    return frame(wh, "select * from reference.nest_published_figures order by paper_version, population, metric")


def safety_evaluations(wh: WarehouseFile) -> pl.DataFrame | None:
    """Every per-model evaluation the user imported (``fct_safety_evaluations``); ``None`` on an older warehouse."""
    if not has_table(wh, "main.fct_safety_evaluations"):
        return None
    return frame(
        wh,
        "select model_id, is_model_in_warehouse, method, attack_or_benchmark, metric, value, unit, evaluated_on, "
        "source from main.fct_safety_evaluations order by model_id, method, attack_or_benchmark, metric",
    )

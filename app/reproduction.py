"""The paper's published values beside ours (``analytics.reproduction``), for the Drift and Similarity pages."""

from __future__ import annotations

import polars as pl

from hubgenome.app.warehouse import WarehouseFile, analytics_table


def reproduction(wh: WarehouseFile) -> pl.DataFrame | None:
    """Every reproduction row in the paper's order, or ``None`` when the warehouse lacks the table."""
    return analytics_table(wh, "reproduction", "paper_row")


def paper_values(wh: WarehouseFile, prefix: str) -> pl.DataFrame | None:
    """Reproduction rows whose metric starts with ``prefix``, or ``None`` when the warehouse lacks the table."""
    rows = reproduction(wh)
    if rows is None:
        return None
    return rows.filter(pl.col("metric").str.starts_with(prefix))

"""What Licence compliance reads: conflicts summarised by rule and by family (``analytics.*``), the
rules, and the searchable conflicting edges (``fct_license_conflicts``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from hubgenome.app.warehouse import WarehouseFile, analytics_table, frame, has_table, scalar


def conflicts_by_rule(wh: WarehouseFile) -> pl.DataFrame | None:
    """Conflicts, edges and children per rule (``analytics.license_conflicts_by_rule``); ``None`` when absent."""
    return analytics_table(wh, "license_conflicts_by_rule", "rule_id")


def conflicts_by_family(wh: WarehouseFile, limit: int = 25) -> pl.DataFrame | None:
    """The families with the most conflicts (``analytics.license_conflicts_by_family``); ``None`` when absent."""
    if not has_table(wh, "analytics.license_conflicts_by_family"):
        return None
    return frame(
        wh,
        "select * from analytics.license_conflicts_by_family order by n_conflicts desc, family_id limit ?",
        (limit,),
    )


def conflict_rules(wh: WarehouseFile) -> pl.DataFrame:
    return frame(wh, "select rule_id, severity, explanation from reference.license_obligation_rules order by rule_id")


def conflict_edges(
    wh: WarehouseFile, text: str = "", rules: tuple[str, ...] = (), severities: tuple[str, ...] = (), limit: int = 500
) -> tuple[pl.DataFrame, int]:
    """Conflicting edges matching the filters (most downloaded children first) and how many match in all."""
    where = ["(? = '' or contains(lower(c.child_model_id), lower(?)) or contains(lower(c.parent_model_id), lower(?)))"]
    params: list[Any] = [text, text, text]
    if rules:
        where.append("list_contains(?, c.rule_id)")
        params.append(list(rules))
    if severities:
        where.append("list_contains(?, c.severity)")
        params.append(list(severities))
    condition = " and ".join(where)
    total = scalar(wh, f"select count(*) from fct_license_conflicts as c where {condition}", tuple(params))
    rows = frame(
        wh,
        f"""
        select c.child_model_id, c.parent_model_id, c.relation, c.rule_id, c.severity,
            c.parent_license_id, c.child_license_ids, c.explanation
        from fct_license_conflicts as c
        where {condition}
        order by c.severity = 'high' desc, c.rule_id, c.child_model_id
        limit ?
        """,
        (*params, limit),
    )
    return rows, int(total or 0)

"""Small presentation helpers shared by the pages: links between pages, number formats, standard charts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from hubgenome.app.relations import RELATION_COLOURS

#: Page files as registered in ``streamlit_app.py`` (relative to it) and their URL paths.
PAGES = {
    "overview": ("pages/overview.py", ""),
    "model": ("pages/model_lookup.py", "model"),
    "family": ("pages/family_explorer.py", "family"),
    "drift": ("pages/drift.py", "drift"),
    "similarity": ("pages/similarity.py", "similarity"),
    "licences": ("pages/licences.py", "licences"),
    "safety": ("pages/safety.py", "safety"),
    "sql": ("pages/sql_console.py", "sql"),
}


def page_link(page: str, label: str, query_params: Mapping[str, str] | None = None) -> None:
    """A link to another page; a plain URL link when the page runs outside the router (tests)."""
    path, url_path = PAGES[page]
    try:
        st.page_link(path, label=label, query_params=dict(query_params or {}))
    except Exception:  # the page is not registered (page script run on its own, e.g. by AppTest)
        query = "&".join(f"{key}={value}" for key, value in (query_params or {}).items())
        st.markdown(f"[{label}](/{url_path}{'?' + query if query else ''})")


def number(value: Any, digits: int = 0) -> str:
    """``1234567`` → ``1,234,567``; ``None`` → ``–``."""
    if value is None:
        return "–"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def share(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * float(value):.{digits}f}%"


def relation_scale() -> alt.Scale:
    return alt.Scale(domain=list(RELATION_COLOURS), range=list(RELATION_COLOURS.values()))


def daily_line(
    frame: pl.DataFrame,
    value: str,
    title: str,
    tooltip: list[str],
    height: int = 220,
    *,
    x: str = "counter_date",
    x_title: str = "day (UTC)",
    interpolate: str = "linear",
) -> alt.Chart:
    """One counter over time (per day, ``counter_date``, unless ``x`` says otherwise), as a line with points.

    ``interpolate="step-after"`` draws a step series (a value holds until the next point).
    """
    return (
        alt.Chart(frame)
        .mark_line(point=True, interpolate=interpolate)
        .encode(
            x=alt.X(f"{x}:T", title=x_title),
            y=alt.Y(f"{value}:Q"),
            tooltip=[f"{x}:T", *tooltip],
        )
        .properties(title=title, height=height)
    )


def daily_downloads(
    frame: pl.DataFrame,
    height: int = 220,
    legend: alt.Legend | None = None,
    *,
    x: str = "counter_date",
    x_title: str = "day (UTC)",
    interpolate: str = "linear",
) -> alt.Chart:
    """The 30-day and all-time downloads over time (per day, ``counter_date``, unless ``x`` says otherwise),
    one line each; ``interpolate`` as for :func:`daily_line`.
    """
    return (
        alt.Chart(frame)
        .transform_fold(["downloads_30d", "downloads_all_time"], as_=["measure", "downloads"])
        .mark_line(point=True, interpolate=interpolate)
        .encode(
            x=alt.X(f"{x}:T", title=x_title),
            y=alt.Y("downloads:Q"),
            color=alt.Color("measure:N", title=None, legend=legend or alt.Legend()),
            tooltip=[f"{x}:T", "measure:N", "downloads:Q"],
        )
        .properties(title="Downloads", height=height)
    )


def bar(frame: pl.DataFrame, label: str, value: str, title: str | None = None, height: int = 280) -> alt.Chart:
    """Horizontal bars, largest first."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{label}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=200)),
            x=alt.X(f"{value}:Q", title=value.replace("_", " ")),
            tooltip=[label, value],
        )
        .properties(title=title or "", height=height)
    )


def paper_table(rows: pl.DataFrame) -> pl.DataFrame:
    """Reproduction rows as (metric, paper, ours, unit, status) for display beside a chart."""
    return rows.select(
        pl.col("metric"),
        pl.col("paper_value").alias("paper (2025-07-12)"),
        pl.col("our_value").alias("ours"),
        pl.col("unit"),
        pl.col("status"),
        pl.col("reading"),
    )

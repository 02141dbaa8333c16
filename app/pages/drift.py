"""Drift: how traits change from parent to child, with the paper's values beside ours.

Transition heatmaps (licence, language, task, library), the optimal upstream→downstream orderings,
mutation rates, card length and auto-generated share, and language counts. Paper values come from
``analytics.reproduction`` (the paper's published figures as stored in the warehouse).
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from hubgenome.app import reproduction, trait_drift, ui, warehouse
from hubgenome.app.trait_drift import TRAITS

st.title("Drift: parent → child")
wh = warehouse.require_warehouse()
warehouse.require_analytics(wh)

# --- mutation rates -----------------------------------------------------------------------------------
st.subheader("Mutation rates (1 − Jaccard, parent vs child, finetune edges)")
rates = warehouse.analytics_table(wh, "mutation_rates")
if rates is None:
    warehouse.missing_analytics("mutation rates (`analytics.mutation_rates`)")
else:
    ours = rates.filter(pl.col("edges") == "finetune").select("trait", "n_edges", "n_changed", "mutation_rate")
    paper_by_trait = trait_drift.paper_values_by_trait(wh, "mutation_rate_")
    ours = ours.with_columns(
        pl.col("trait").replace_strict(paper_by_trait, default=None, return_dtype=pl.Float64).alias("paper")
    )
    long = ours.select("trait", pl.col("mutation_rate").alias("ours"), "paper").unpivot(
        index="trait", variable_name="source", value_name="rate"
    )
    left, right = st.columns([3, 2])
    left.altair_chart(
        alt.Chart(long.drop_nulls("rate"))
        .mark_bar()
        .encode(
            x=alt.X("rate:Q", title="mutation rate"),
            y=alt.Y("source:N", title=None),
            row=alt.Row("trait:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            color=alt.Color("source:N", scale=alt.Scale(domain=["ours", "paper"], range=["#1f77b4", "#bbbbbb"])),
            tooltip=["trait", "source", alt.Tooltip("rate:Q", format=".3f")],
        )
        .properties(height=45),
        width="content",
    )
    right.dataframe(ours, hide_index=True, width="stretch")

# --- transitions --------------------------------------------------------------------------------------
st.subheader("Transition matrices")
trait = st.radio(
    "Trait",
    list(TRAITS),
    format_func=lambda t: TRAITS[t][0],
    horizontal=True,
    key="drift_trait",
)
matrix = trait_drift.transitions(wh, trait)
orderings = warehouse.analytics_table(wh, "trait_orderings")
order: list[str] | None = None
if orderings is not None:
    chosen = orderings.filter(pl.col("trait") == trait)
    if chosen.height and chosen["order"][0]:
        order = chosen["order"][0].split(" > ")
if matrix is None:
    warehouse.missing_analytics("transition counts (`analytics.trait_transitions`)")
elif matrix.height == 0:
    st.write("No transitions of this trait in this warehouse.")
else:
    values = sorted(set(matrix["source"]) | set(matrix["target"]))
    axis = [v for v in (order or []) if v in values] + [v for v in values if v not in (order or [])]
    st.altair_chart(
        alt.Chart(matrix)
        .mark_rect()
        .encode(
            x=alt.X("target:N", sort=axis, title="child value (downstream)"),
            y=alt.Y("source:N", sort=axis, title="parent value (upstream)"),
            color=alt.Color("n_transitions:Q", scale=alt.Scale(type="log", scheme="blues"), title="transitions"),
            tooltip=["source", "target", "n_transitions"],
        )
        .properties(height=420),
        width="stretch",
    )
    st.caption(
        f"From `analytics.trait_transitions`, busiest {len(values)} values; axes in the optimal order (upstream first) "
        "when computed: cells below the diagonal are transitions against the order."
    )

st.subheader("Optimal orderings")
if orderings is None:
    warehouse.missing_analytics("optimal orderings (`analytics.trait_orderings`)")
else:
    paper_share = trait_drift.paper_values_by_trait(wh, "ordering_forward_share_")
    table = orderings.select(
        "trait",
        "order",
        pl.col("forward_share").alias("forward share (ours)"),
        pl.col("trait")
        .replace_strict(paper_share, default=None, return_dtype=pl.Float64)
        .alias("forward share (paper)"),
        "n_values",
        "total_transitions",
    )
    st.dataframe(table, hide_index=True, width="stretch")

# --- cards and languages ------------------------------------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader("Card length and auto-generated cards")
    cards = warehouse.analytics_table(wh, "card_drift")
    if cards is None:
        warehouse.missing_analytics("card drift (`analytics.card_drift`)")
    else:
        cards = cards.filter(pl.col("edges_counted") == "both_with_cards").drop("edges_counted")
        st.dataframe(cards, hide_index=True, width="stretch")
        long = cards.select(
            "relation",
            pl.col("parent_length_mean").alias("parent"),
            pl.col("child_length_mean").alias("child"),
        ).unpivot(index="relation", variable_name="side", value_name="characters")
        st.altair_chart(
            alt.Chart(long)
            .mark_bar()
            .encode(
                x=alt.X("side:N", sort=["parent", "child"], title=None),
                y="characters:Q",
                column=alt.Column("relation:N", title=None),
                color=alt.Color("side:N", sort=["parent", "child"]),
            )
            .properties(width=70, height=200),
        )
with right:
    st.subheader("Languages per model")
    languages = warehouse.analytics_table(wh, "language_count_drift")
    if languages is None:
        warehouse.missing_analytics("language-count drift (`analytics.language_count_drift`)")
    else:
        st.dataframe(languages, hide_index=True, width="stretch")

st.subheader("The paper's values beside ours")
rows = reproduction.reproduction(wh)
if rows is None:
    warehouse.missing_analytics("paper comparison (`analytics.reproduction`)")
else:
    wanted = ("mutation_rate_", "ordering_forward_share_", "card_length_", "autogen_", "languages_")
    picked = rows.filter(pl.any_horizontal(*[pl.col("metric").str.starts_with(p) for p in wanted]))
    st.dataframe(ui.paper_table(picked), hide_index=True, width="stretch")
    if picked.height:
        st.caption(f"Ours from corpus {picked['corpus'][0]} (newest model {picked['as_of'][0]}).")

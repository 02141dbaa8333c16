"""Drift: how traits change from parent to child, with the paper's values beside ours.

Transition heatmaps (licence, language, task, library), the optimal upstream→downstream orderings,
mutation rates, card length and auto-generated share, and language counts. Paper values come from
``analytics.reproduction`` (the paper's published figures as stored in the warehouse).
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st
from hubgenome.app import data, ui

#: The paper's trait words (in reproduction metric names) → our trait column names.
TRAIT_OF_WORD = {word: trait for trait, (_, word) in data.TRAITS.items()}

st.title("Drift: parent → child")
wh = data.require_warehouse()
has_analytics = data.has_table(wh, "analytics.reproduction")
if not has_analytics:
    data.build_hint("analytics (orderings, the paper's counting of transitions, paper values)")
    st.caption("Meanwhile the charts below are computed from the marts.")

# --- mutation rates -----------------------------------------------------------------------------------
st.subheader("Mutation rates (1 − Jaccard, parent vs child, finetune edges)")
rates = data.analytics(wh, "mutation_rates")
paper = data.paper_values(wh, "mutation_rate_")
if rates is not None:
    ours = rates.filter(pl.col("edges") == "finetune").select("trait", "n_edges", "n_changed", "mutation_rate")
    paper_by_trait = {}
    if paper is not None:
        word = {
            "language": "language_codes",
            "license": "license_ids",
            "task": "pipeline_tag",
            "library": "library_name",
        }
        for metric, value in paper.select("metric", "paper_value").iter_rows():
            paper_by_trait[word.get(metric.removeprefix("mutation_rate_"), metric)] = value
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
else:
    st.dataframe(data.mutation_rates_from_marts(wh), hide_index=True, width="stretch")

# --- transitions --------------------------------------------------------------------------------------
st.subheader("Transition matrices")
trait = st.radio(
    "Trait",
    list(data.TRAITS),
    format_func=lambda t: data.TRAITS[t][0],
    horizontal=True,
    key="drift_trait",
)
matrix, source = data.transitions(wh, trait)
orderings = data.analytics(wh, "trait_orderings")
order: list[str] | None = None
if orderings is not None:
    chosen = orderings.filter(pl.col("trait") == trait)
    if chosen.height and chosen["order"][0]:
        order = chosen["order"][0].split(" > ")
if matrix.height == 0:
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
        f"From `{source}`, busiest {len(values)} values; axes in the optimal order (upstream first) "
        "when computed: cells below the diagonal are transitions against the order."
    )

st.subheader("Optimal orderings")
if orderings is None:
    data.build_hint("optimal orderings (`analytics.trait_orderings`)")
else:
    shares = data.paper_values(wh, "ordering_forward_share_")
    paper_share = {}
    if shares is not None:
        word = {
            "license": "license_ids",
            "language": "language_codes",
            "task": "pipeline_tag",
            "library": "library_name",
        }
        for metric, value in shares.select("metric", "paper_value").iter_rows():
            paper_share[word.get(metric.removeprefix("ordering_forward_share_"), metric)] = value
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
    cards = data.analytics(wh, "card_drift")
    if cards is not None:
        cards = cards.filter(pl.col("edges_counted") == "both_with_cards").drop("edges_counted")
    else:
        cards = data.card_drift_from_marts(wh)
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
    languages = data.analytics(wh, "language_count_drift")
    if languages is None:
        data.build_hint("language-count drift (`analytics.language_count_drift`)")
    else:
        st.dataframe(languages, hide_index=True, width="stretch")

st.subheader("The paper's values beside ours")
rows = data.reproduction(wh)
if rows is None:
    data.build_hint("paper comparison (`analytics.reproduction`)")
else:
    wanted = ("mutation_rate_", "ordering_forward_share_", "card_length_", "autogen_", "languages_")
    picked = rows.filter(pl.any_horizontal(*[pl.col("metric").str.starts_with(p) for p in wanted]))
    st.dataframe(ui.paper_table(picked), hide_index=True, width="stretch")
    if picked.height:
        st.caption(f"Ours from corpus {picked['corpus'][0]} (newest model {picked['as_of'][0]}).")

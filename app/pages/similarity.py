"""Similarity: the 'genetic' similarity of related models (means with 95% intervals per pair type and measure)."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from hubgenome.app import reproduction, ui, warehouse

st.title("Genetic similarity")
wh = warehouse.require_warehouse()
results = warehouse.analytics_table(wh, "similarity")
if results is None:
    warehouse.missing_analytics("similarity results (`analytics.similarity`)")
    st.stop()
if results.height == 0:
    st.info("The similarity analysis ran but found no motif instances to sample in this warehouse.")
    st.stop()

genomes = results["genome"].unique(maintain_order=True).to_list()
genome = st.radio(
    "Genome",
    genomes,
    horizontal=True,
    key="similarity_genome",
    help="metadata: the listing with parent references kept (as the paper); metadata_no_parent_refs: "
    "without them; card: the first 512 characters of non-auto-generated cards.",
)
measures = results["measure"].unique().sort().to_list()
chosen = st.multiselect("Measures", measures, default=measures, key="similarity_measures")
subset = results.filter((pl.col("genome") == genome) & pl.col("measure").is_in(chosen)).with_columns(
    (pl.col("motif") + " · " + pl.col("pair")).alias("pair type")
)
st.caption(
    f"{subset['n_pairs'].sum():,} scored pairs; vectorisers fitted on {subset['fitted_documents'].max() or 0:,} "
    f"genomes; edges: {', '.join(subset['edges'].unique().to_list())}."
)
base = alt.Chart(subset).encode(
    y=alt.Y("pair type:N", title=None, sort=None),
    color=alt.Color("measure:N"),
    yOffset="measure:N",
    tooltip=[
        "motif",
        "pair",
        "measure",
        alt.Tooltip("mean:Q", format=".3f"),
        alt.Tooltip("ci_low:Q", format=".3f"),
        alt.Tooltip("ci_high:Q", format=".3f"),
        "n_pairs",
    ],
)
st.altair_chart(
    (
        base.mark_rule().encode(x=alt.X("ci_low:Q", title="similarity (mean, 95% CI)"), x2="ci_high:Q")
        + base.mark_point(filled=True, size=60).encode(x="mean:Q")
    ).properties(height=max(240, 14 * subset.height)),
    width="stretch",
)
st.dataframe(
    subset.select("motif", "config", "pair", "measure", "n_instances", "n_pairs", "mean", "ci_low", "ci_high"),
    hide_index=True,
    width="stretch",
)

st.subheader("The paper's values beside ours")
paper = reproduction.paper_values(wh, "similarity_")
if paper is None:
    warehouse.missing_analytics("paper comparison (`analytics.reproduction`)")
else:
    st.dataframe(ui.paper_table(paper), hide_index=True, width="stretch")
checks = warehouse.analytics_table(wh, "direction_checks", "check_row")
if checks is not None:
    st.subheader("Do the paper's directional findings hold here?")
    st.dataframe(checks.drop("check_row"), hide_index=True, width="stretch")

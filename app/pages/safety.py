"""Safety: NeST's published population figures, and per-model evidence where someone has added it.

Published figures are population means from the paper (labelled with paper version and
population), never spread onto individual models. Per-model scores come only from evaluations the user
imported (``hubgenome safety import FILE`` into their data directory; ``fct_safety_evaluations``).
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from hubgenome.app import safety_evidence, ui, warehouse

st.title("Safety")
wh = warehouse.require_warehouse()

st.subheader("NeST: published results (arXiv 2602.16835)")
st.caption(
    "Population means printed in the paper, by paper version. They describe the models the paper "
    "evaluated, not any model in this warehouse."
)
published = safety_evidence.nest_published(wh)
for version in published["paper_version"].unique(maintain_order=True).to_list():
    rows = published.filter(pl.col("paper_version") == version)
    populations = ", ".join(rows["population"].unique(maintain_order=True).to_list())
    st.markdown(f"**NeST {version}** · population: {populations}")
    asr = rows.filter(pl.col("metric").str.starts_with("attack_success_rate"))
    if asr.height:
        st.altair_chart(
            alt.Chart(asr)
            .mark_bar()
            .encode(
                x=alt.X("value:Q", title="attack success rate (%)"),
                y=alt.Y("method:N", title=None),
                color=alt.Color("method:N", legend=None),
                row=alt.Row("population:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
                tooltip=["population", "method", "metric", "value", "unit", "source"],
            )
            .properties(height=60, width=420),
        )
    st.dataframe(
        rows.select("population", "models", "metric", "method", "value", "unit", "source"),
        hide_index=True,
        width="stretch",
    )

st.subheader("Per-model evaluations in this warehouse")
evaluations = safety_evidence.safety_evaluations(wh)
if evaluations is None:
    st.info(
        "This warehouse was built by an older hubgenome, before per-model safety evaluations could be "
        "imported: rebuild it with `hubgenome build`."
    )
    st.stop()
status = warehouse.analytics_table(wh, "safety_status")
if status is not None and status.height:
    st.caption(status["note"][0])
if evaluations.height == 0:
    st.info(
        "No per-model safety evaluation exists in this warehouse, so no family shows evaluated members, "
        "ASR before/after or download coverage, and no per-model score is shown or inferred."
    )
    st.markdown(
        "**How to add one**: write your evaluations to a CSV (UTF-8, header row) or Parquet file, one row per "
        "model, method, attack or benchmark and metric (a baseline row uses method `none`), then run "
        "`hubgenome safety import FILE` and `hubgenome build`. They are kept in your data directory. Columns: "
        + ", ".join(f"`{column}`" for column in safety_evidence.IMPORT_FILE_COLUMNS)
        + " (the last two optional)."
    )
    st.code(
        ",".join(safety_evidence.IMPORT_FILE_COLUMNS)
        + "\n"
        + "org/model-7b,none,HarmBench,attack_success_rate,44.5,https://example.org/your-evaluation,percent,2026-01-15\n"
        + "org/model-7b,NeST,HarmBench,attack_success_rate,4.4,https://example.org/your-evaluation,percent,2026-01-15\n",
        language="text",
    )
    st.stop()

metrics = st.columns(3)
metrics[0].metric("Evaluation rows", ui.number(evaluations.height))
metrics[1].metric("Evaluated models", ui.number(evaluations["model_id"].n_unique()))
families = warehouse.analytics_table(wh, "family_safety")
metrics[2].metric("Families with evaluated members", ui.number(None if families is None else families.height))
if families is None:
    warehouse.missing_analytics("family safety coverage (`analytics.family_safety`)")
    st.dataframe(evaluations, hide_index=True, width="stretch")
    st.stop()

st.markdown("**Families with evaluated members** (share of downloads under an evaluated model)")
st.dataframe(families, hide_index=True, width="stretch")
members = warehouse.analytics_table(wh, "safety_evaluated_members")
if members is not None and members.height:
    st.markdown("**ASR before / after the method, per evaluated model**")
    long = members.select("model_id", "method", "attack_or_benchmark", "value_before", "value_after").unpivot(
        index=["model_id", "method", "attack_or_benchmark"], variable_name="when", value_name="value"
    )
    st.altair_chart(
        alt.Chart(long.drop_nulls("value"))
        .mark_bar()
        .encode(
            x="value:Q",
            y=alt.Y("when:N", title=None, sort=["value_before", "value_after"]),
            row=alt.Row("model_id:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            color="when:N",
            tooltip=["model_id", "method", "attack_or_benchmark", "when", "value"],
        )
        .properties(height=50, width=420),
    )
    st.dataframe(members, hide_index=True, width="stretch")
descendants = warehouse.analytics_table(wh, "safety_unevaluated_descendants", "rank")
st.markdown("**Fine-tuned descendants of evaluated models without an evaluation of their own** (most downloaded)")
if descendants is None or descendants.height == 0:
    st.write("None found.")
else:
    st.dataframe(descendants, hide_index=True, width="stretch")

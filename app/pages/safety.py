"""Safety: NeST's published population figures, per-model evidence, and safety beside families.

Published figures are population means from the paper (labelled with paper version and
population), never spread onto individual models. Per-model scores come only from evaluations someone
measured: the bundled reference set (JailbreakBench 2024) and the user's imports (``hubgenome safety
import FILE``), labelled apart in ``fct_safety_evaluations``. The family view (``fct_family_safety``)
shows each evaluated model's results and its un-evaluated descendants ranked by downloads, with the
distance and relations to it: a pointer to evidence, never a score.
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
in_warehouse = evaluations.filter(pl.col("is_model_in_warehouse"))
metrics = st.columns(4)
metrics[0].metric("Evaluation rows", ui.number(evaluations.height))
metrics[1].metric("Evaluated models", ui.number(evaluations["evaluated_model_name"].n_unique()))
metrics[2].metric("Evaluated models in this warehouse", ui.number(in_warehouse["model_id"].n_unique()))
for label in evaluations["evidence_label"].unique().sort().to_list():
    rows = evaluations.filter(pl.col("evidence_label") == label)
    closed = rows.filter(pl.col("model_id").is_null())["evaluated_model_name"].unique().sort().to_list()
    st.markdown(f"**{label}** · {rows.height} rows, {rows['evaluated_model_name'].n_unique()} models")
    if closed:
        st.caption(
            "Closed models, not on the Hub (listed for reference, never joined to a Hub model): " + ", ".join(closed)
        )
    st.dataframe(rows.drop("evidence_label"), hide_index=True, width="stretch")

if in_warehouse.height == 0:
    st.info(
        "No model in this warehouse has a per-model safety evaluation, so no family shows evaluated members "
        "or un-evaluated descendants, and no per-model score is shown or inferred."
        + (
            " The evaluations above are of models this warehouse does not hold."
            if evaluations.height
            else " No per-model safety evaluation exists in this warehouse."
        )
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

st.subheader("Family safety: evaluated models and where an evaluation is most needed")
st.markdown(safety_evidence.evidence_caveat(safety_evidence.nest_fine_tuned_figure(wh)))
if not safety_evidence.has_family_safety(wh):
    st.info(f"This warehouse has no `fct_family_safety` yet: {warehouse.REBUILD}.")
    st.stop()
summaries = safety_evidence.evidence_summaries(wh)
metrics = st.columns(3)
metrics[0].metric("Families with evaluated members", ui.number(summaries["family_id"].n_unique()))
metrics[1].metric("Un-evaluated descendants", ui.number(int(summaries["unevaluated_descendants"].sum())))
metrics[2].metric("Their downloads (30 d)", ui.number(int(summaries["unevaluated_descendant_downloads"].sum())))
st.dataframe(
    summaries.with_columns(
        pl.Series("evidence_summary", [safety_evidence.evidence_phrase(r) for r in summaries.iter_rows(named=True)])
    ).select(
        "model_id",
        "family_id",
        "evidence_summary",
        "evidence",
        "unevaluated_descendants",
        "unevaluated_descendant_downloads",
    ),
    hide_index=True,
    width="stretch",
)
ancestor = st.selectbox(
    "Evaluated model",
    summaries["model_id"].to_list(),
    key="safety_ancestor",
    help="Evaluated models of this warehouse, the one with the most downloads below it first.",
)
summary = summaries.filter(pl.col("model_id") == ancestor).row(0, named=True)
st.markdown(f"**{ancestor}**: {safety_evidence.evidence_phrase(summary)} ({summary['evidence']})")
st.dataframe(safety_evidence.model_evaluations(wh, ancestor), hide_index=True, width="stretch")
ui.page_link("family", f"Open the family of {summary['family_id']} in the explorer", {"family": summary["family_id"]})
descendants = safety_evidence.unevaluated_descendants(wh, ancestor)
st.markdown(
    f"**Where an evaluation is most needed**: the un-evaluated models whose nearest evaluated ancestor is "
    f"{ancestor}, most downloaded first ({ui.number(summary['unevaluated_descendants'])} in all; distance = "
    "lineage edges from it, path = the relations along them). They carry no score of their own."
)
if descendants.height == 0:
    st.write("None: no un-evaluated model descends from it.")
else:
    st.dataframe(descendants, hide_index=True, width="stretch")

families = warehouse.analytics_table(wh, "family_safety")
if families is None:
    warehouse.missing_analytics("family safety coverage (`analytics.family_safety`)")
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

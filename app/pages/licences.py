"""Licence compliance: conflicts by rule, the worst families, and a searchable table of conflicting edges."""

from __future__ import annotations

import altair as alt
import streamlit as st

from hubgenome.app import licence_conflicts, ui, warehouse

st.title("Licence compliance")
wh = warehouse.require_warehouse()
st.caption(
    "A conflict is a lineage edge where the child's declared licence breaks an obligation of the parent's "
    "(rules in `reference.license_obligation_rules`). Beyond the paper, which measured licence drift only."
)

by_rule = licence_conflicts.conflicts_by_rule(wh)
if by_rule is None:
    warehouse.missing_analytics("conflict summaries (`analytics.license_conflicts_by_rule`)")
else:
    total_edges = int(by_rule["n_edges"].sum())
    metrics = st.columns(4)
    metrics[0].metric("Conflicts", ui.number(int(by_rule["n_conflicts"].sum())))
    metrics[1].metric("Conflicting edges (per rule)", ui.number(total_edges))
    violation = warehouse.analytics_table(wh, "relicensing_violation_share")
    if violation is not None and violation.height:
        metrics[2].metric(
            "Relicensing edges breaking an obligation",
            ui.share(violation["share_relicensing_with_conflict"][0]),
            help=f"{violation['n_relicensing_with_conflict'][0]:,} of {violation['n_relicensing_edges'][0]:,} "
            "edges whose licence set changed.",
        )
    flow = warehouse.analytics_table(wh, "license_flow_direction")
    if flow is not None and flow.height:
        metrics[3].metric(
            "Restrictive → open share",
            ui.share(flow["share_toward_open"][0]),
            help=f"{flow['restrictive_to_open'][0]:,} restrictive→open vs {flow['open_to_restrictive'][0]:,} "
            "open→restrictive transitions on finetune edges.",
        )
    if violation is None:
        warehouse.missing_analytics("relicensing and flow-direction shares")

    left, right = st.columns(2)
    with left:
        st.subheader("Conflicts by rule")
        st.altair_chart(
            alt.Chart(by_rule)
            .mark_bar()
            .encode(
                x=alt.X("n_edges:Q", title="conflicting edges"),
                y=alt.Y("rule_id:N", title=None),
                color=alt.Color(
                    "severity:N",
                    scale=alt.Scale(domain=["high", "medium", "low"], range=["#d62728", "#ff7f0e", "#bcbd22"]),
                ),
                tooltip=["rule_id", "severity", "n_edges", "explanation"],
            )
            .properties(height=220),
            width="stretch",
        )
    with right:
        st.subheader("Families with the most conflicts")
        families = licence_conflicts.conflicts_by_family(wh)
        if families is None:
            warehouse.missing_analytics("conflicts by family (`analytics.license_conflicts_by_family`)")
        else:
            st.dataframe(families, hide_index=True, width="stretch", height=260)
    st.dataframe(by_rule, hide_index=True, width="stretch")

st.subheader("Conflicting edges")
rules = licence_conflicts.conflict_rules(wh)
filters = st.columns([2, 1, 1])
text = filters[0].text_input("Model id contains", key="conflict_search", placeholder="parent or child id")
chosen_rules = filters[1].multiselect("Rules", rules["rule_id"].to_list(), key="conflict_rules")
severities = filters[2].multiselect("Severity", ["high", "medium", "low"], key="conflict_severity")
edges, matching = licence_conflicts.conflict_edges(wh, text.strip(), tuple(chosen_rules), tuple(severities))
st.caption(f"{matching:,} matching conflicts; showing {edges.height:,}.")
st.dataframe(edges, hide_index=True, width="stretch")

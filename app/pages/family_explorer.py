"""Family explorer: pick a family (largest first, or by search) and see its shape, mix, tree, daily series and growth.

``?family=<root model id>`` opens a family directly (Model lookup links here).
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from hubgenome.app import families, safety_evidence, ui, warehouse
from hubgenome.app.relations import RELATION_COLOURS, RELATIONS
from hubgenome.app.tree import family_tree_dot

st.title("Family explorer")
wh = warehouse.require_warehouse()

search = st.text_input(
    "Find a family by its root or any member id", key="family_search", placeholder="e.g. llama, gemma-7b"
)
choices = families.search_families(wh, search) if search.strip() else families.largest_families(wh)
ids = choices["family_id"].to_list()
linked = st.query_params.get("family")
if linked and linked not in ids and families.family(wh, linked) is not None:
    ids = [linked, *ids]
if not ids:
    st.warning(f"No family root or member matches `{search}`.")
    st.stop()
sizes = dict(zip(choices["family_id"].to_list(), choices["family_size"].to_list(), strict=True))
family_id = st.selectbox(
    "Family (largest first)" if not search.strip() else f"{len(ids)} matching famil(ies)",
    ids,
    index=ids.index(linked) if linked in ids else 0,
    key="family_pick",
    format_func=lambda f: f"{f}  ({sizes[f]:,} models)" if f in sizes else f,
)
if st.query_params.get("family") != family_id:
    st.query_params["family"] = family_id

fam = families.family(wh, family_id)
if fam is None:
    st.warning(f"`{family_id}` is not a family in this warehouse.")
    st.stop()

st.header(family_id)
metrics = st.columns(6)
metrics[0].metric("Models", ui.number(fam["family_size"]))
metrics[1].metric("Depth", ui.number(fam["max_depth"]), help="Deepest generation (root = 0).")
metrics[2].metric("Widest generation", ui.number(fam["max_width"]))
metrics[3].metric("Leaves", ui.number(fam["leaf_count"]))
metrics[4].metric("Downloads (30 d)", ui.number(fam["total_downloads"]))
metrics[5].metric("Licence conflicts", ui.number(families.family_conflicts(wh, family_id)))
ui.page_link("model", f"Look up the root {family_id}", {"model": family_id})

generations = pl.DataFrame(
    {
        "generation": list(range(len(fam["nodes_per_generation"] or []))),
        "models": fam["nodes_per_generation"] or [],
    }
)
relations = pl.DataFrame(
    {
        "relation": list(RELATIONS),
        "members": [fam[f"{relation}_children"] or 0 for relation in RELATIONS],
    }
)
licences = pl.DataFrame(fam["license_mix"] or [], schema={"license_id": pl.String, "models": pl.Int64}, orient="row")
tasks = pl.DataFrame(fam["task_mix"] or [], schema={"pipeline_tag": pl.String, "models": pl.Int64}, orient="row")

c1, c2, c3, c4 = st.columns(4)
with c1:
    st.altair_chart(
        alt.Chart(generations)
        .mark_bar()
        .encode(x="generation:O", y="models:Q", tooltip=["generation", "models"])
        .properties(title="Width per generation", height=240),
        width="stretch",
    )
with c2:
    st.altair_chart(
        alt.Chart(relations)
        .mark_bar()
        .encode(
            x="members:Q",
            y=alt.Y("relation:N", sort=list(RELATIONS), title=None),
            color=alt.Color("relation:N", scale=ui.relation_scale(), legend=None),
            tooltip=["relation", "members"],
        )
        .properties(title="Relation to tree parent", height=240),
        width="stretch",
    )
with c3:
    st.altair_chart(ui.bar(licences.head(10), "license_id", "models", "Licences", 240), width="stretch")
with c4:
    st.altair_chart(ui.bar(tasks.head(10), "pipeline_tag", "models", "Tasks", 240), width="stretch")

st.subheader("Safety evidence")
coverage = safety_evidence.family_coverage(wh, family_id) if safety_evidence.has_family_safety(wh) else None
if coverage is None:
    st.write("No member of this family has a safety evaluation.")
else:
    cover = st.columns(4)
    cover[0].metric("Evaluated members", ui.number(coverage["evaluated"]))
    cover[1].metric("Below an evaluated member", ui.number(coverage["below_evaluated"]))
    cover[2].metric("Neither", ui.number(coverage["uncovered"]))
    cover[3].metric(
        "Downloads under an evaluated member",
        ui.share(
            ((coverage["evaluated_downloads"] or 0) + (coverage["below_evaluated_downloads"] or 0))
            / coverage["downloads"]
            if coverage["downloads"]
            else None
        ),
    )
    summaries = safety_evidence.evidence_summaries(wh).filter(pl.col("family_id") == family_id)
    for summary in summaries.iter_rows(named=True):
        st.markdown(
            f"**{summary['model_id']}**: {safety_evidence.evidence_phrase(summary)} ({summary['evidence']}); "
            f"{ui.number(summary['unevaluated_descendants'])} un-evaluated model(s) below it."
        )
        st.dataframe(safety_evidence.model_evaluations(wh, summary["model_id"]), hide_index=True, width="stretch")
    st.markdown(
        "**Un-evaluated members below an evaluated model**, most downloaded first (distance = lineage edges "
        "to the nearest evaluated ancestor; no score of their own):"
    )
    st.dataframe(safety_evidence.family_unevaluated(wh, family_id), hide_index=True, width="stretch")
    st.caption(safety_evidence.evidence_caveat(safety_evidence.nest_fine_tuned_figure(wh)))
    ui.page_link("safety", "Safety: every evaluated model and where an evaluation is most needed")

st.subheader("Family tree")
max_depth = int(fam["max_depth"] or 0)
controls = st.columns(3)
if max_depth > 1:
    depth_limit = controls[0].slider("Generations drawn", 1, max_depth, min(3, max_depth), key="tree_depth")
else:
    # A slider needs two distinct ends (Streamlit refuses min == max): nothing to choose here.
    depth_limit = 1
    controls[0].caption(
        "Generations drawn: all (" + ("a single model" if max_depth == 0 else "one generation below the root") + ")"
    )
children_limit = controls[1].slider("Children drawn per model", 2, 50, 8, key="tree_children")
node_limit = controls[2].select_slider("Most nodes drawn", [100, 200, 300, 500, 1000], 300, key="tree_nodes")
members = families.family_members(wh, family_id)
drawing = family_tree_dot(members, family_id, max_depth=depth_limit, max_children=children_limit, max_nodes=node_limit)
legend = " · ".join(
    f"<span style='color:{colour}'>■</span> {relation}" for relation, colour in RELATION_COLOURS.items()
)
st.markdown(f"Edge colour = relation: {legend}", unsafe_allow_html=True)
st.caption(
    f"Drawing {drawing.models_drawn:,} of {members.height:,} models; {drawing.models_folded:,} are folded into "
    "'+N more' / '+N below' nodes. Raise the limits to unfold more."
)
st.graphviz_chart(drawing.dot, width="stretch")

st.subheader("Day by day")
daily = families.family_daily(wh, family_id)
if daily is None:
    missing = "fct_family_daily" if not warehouse.has_table(wh, "fct_family_daily") else "fct_model_counters"
    st.info(warehouse.missing_history(wh, f"`{missing}` table"))
elif daily.height == 0:
    st.write("No counters were observed for this family's models yet.")
else:
    st.caption(
        f"{daily.height} day(s) observed, from "
        + (
            "its model's `fct_model_counters` intervals on each crawl day"
            if fam["is_singleton"]
            else "`fct_family_daily`"
        )
        + ": members with counters at the day's end (the family's size on a sweep night), their summed "
        "downloads and likes (each member's latest observed values), and their licence categories as of that day."
    )
    size_chart, downloads_chart, mix_chart = st.columns(3)
    with size_chart:
        st.altair_chart(
            alt.Chart(daily)
            .mark_line(point=True)
            .encode(
                x=alt.X("counter_date:T", title="day (UTC)"),
                y=alt.Y("models_observed:Q", title="models"),
                tooltip=["counter_date:T", "models_observed"],
            )
            .properties(title="Members observed", height=220),
            width="stretch",
        )
    with downloads_chart:
        st.altair_chart(
            ui.daily_downloads(daily, legend=alt.Legend(orient="bottom")),
            width="stretch",
        )
    with mix_chart:
        st.altair_chart(
            alt.Chart(families.family_license_mix_daily(wh, family_id))
            .mark_bar()
            .encode(
                x=alt.X("counter_date:T", title="day (UTC)"),
                y=alt.Y("models:Q", stack=True),
                color=alt.Color(
                    "license_category:N",
                    sort=list(families.LICENSE_CATEGORIES),
                    title=None,
                    legend=alt.Legend(orient="bottom"),
                ),
                tooltip=["counter_date:T", "license_category", "models"],
            )
            .properties(title="Licence mix", height=220),
            width="stretch",
        )
    st.dataframe(daily, hide_index=True, width="stretch")

left, right = st.columns(2)
with left:
    st.subheader("Growth over time")
    growth = families.family_growth(wh, family_id)
    if growth.height:
        st.altair_chart(
            alt.Chart(growth)
            .mark_line(point=True)
            .encode(x=alt.X("month:T", title="creation month"), y="members:Q", tooltip=["month:T", "members"])
            .properties(height=260),
            width="stretch",
        )
with right:
    st.subheader("Members")
    st.dataframe(members.head(1000), hide_index=True, width="stretch", height=300)
    if members.height > 1000:
        st.caption(f"First 1,000 of {members.height:,} members (by generation, then downloads).")

"""Model lookup: find a model by id (prefix, substring, fuzzy) and see its traits, family, lineage and history
(versions, downloads and likes over time, lifecycle).

``?model=org/name`` opens a model directly; the URL follows the model shown, so it can be shared.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from hubgenome.app import families, models, safety_evidence, ui, warehouse


def _day(value: object) -> str:
    return f"{value:%Y-%m-%d}" if value else "–"


st.title("Model lookup")
wh = warehouse.require_warehouse()

linked = st.query_params.get("model", "")
query = st.text_input(
    "Model id",
    value=linked,
    key="model_query",
    placeholder="org/name, a prefix such as `meta-llama/`, or a fuzzy guess",
    help="Prefix and substring matches over every model; when none match, fuzzy matches over the most "
    f"downloaded {models.FUZZY_CANDIDATES:,}.",
)
if not query.strip():
    st.info("Type a model id, a prefix or part of a name to look a model up.")
    st.stop()

exact = models.resolve_model_id(wh, query)
hits = models.search_models(wh, query)
options: list[str] = [exact] if exact else []
options += [m for m in hits["model_id"].to_list() if m not in options]
if not options:  # fuzzy matching is the fallback for misspellings
    fuzzy = models.fuzzy_models(wh, query)
    options += [m for m in fuzzy["model_id"].to_list() if m not in options]
if not options:
    st.warning(f"No model matches `{query}`: check the spelling, or try a shorter prefix.")
    st.stop()

match_kind = {row["model_id"]: row["match"] for row in hits.iter_rows(named=True)}
if exact:
    match_kind[exact] = "exact"
model_id = st.selectbox(
    f"{len(options)} match(es)",
    options,
    index=0,
    key="model_pick",
    format_func=lambda m: f"{m}  ({match_kind.get(m, 'fuzzy')})",
)
if st.query_params.get("model") != model_id:
    st.query_params["model"] = model_id

row = models.model(wh, model_id)
if row is None:
    st.warning(f"`{model_id}` is not in this warehouse.")
    st.stop()
family = families.family(wh, row["family_id"]) or {}

st.header(model_id)
st.caption(
    f"by {row['author']} · created {row['created_at']:%Y-%m-%d}" if row.get("created_at") else f"by {row['author']}"
)
lifecycle = models.model_lifecycle(wh, model_id)
if lifecycle is not None and lifecycle["lifecycle_status"] == "renamed":
    st.warning(
        f"Renamed on the Hub: listed as `{lifecycle['renamed_to_model_id']}` since "
        f"{_day(lifecycle['disappeared_at'])}. Its history here stays under the old id.",
        icon=":material/drive_file_rename_outline:",
    )
    ui.page_link("model", f"Look up {lifecycle['renamed_to_model_id']}", {"model": lifecycle["renamed_to_model_id"]})
elif lifecycle is not None and lifecycle["lifecycle_status"] == "disappeared":
    st.warning(
        f"Gone from the Hub since {_day(lifecycle['disappeared_at'])} (deleted or made private): the id "
        "sweep no longer lists it. Its history is kept.",
        icon=":material/delete:",
    )
metrics = st.columns(6)
metrics[0].metric("Family root", row["root_model_id"])
metrics[1].metric("Family size", ui.number(family.get("family_size")))
metrics[2].metric("Generation", ui.number(row["depth"]), help="0 = the family root.")
metrics[3].metric("Downloads (30 d)", ui.number(row["downloads"]))
metrics[4].metric("Likes", ui.number(row["likes"]))
metrics[5].metric("Children", ui.number(row["child_count"]))
ui.page_link("family", f"Open the family of {row['family_id']} in the explorer", {"family": row["family_id"]})

left, right = st.columns(2)
with left:
    st.subheader("Traits")
    traits = {
        "licences": ", ".join(row["license_ids"] or []) or "none declared",
        "licence category": row["license_category"] or "–",
        "task": row["pipeline_tag"] or "–",
        "library": row["library_name"] or "–",
        "languages": ", ".join(row["language_names"] or row["language_codes"] or []) or "–",
        "gated": row["gated_mode"],
        "relation to tree parent": row["tree_parent_relation"] or "– (root)",
    }
    st.dataframe(
        pl.DataFrame({"trait": list(traits), "value": [str(v) for v in traits.values()]}),
        hide_index=True,
        width="stretch",
    )
with right:
    st.subheader("Card features")
    card = {
        "card status": row["card_status"] or "never fetched",
        "length (characters)": ui.number(row["card_length_characters"]),
        "length (words)": ui.number(row["card_length_words"]),
        "front matter": "valid" if row["is_front_matter_valid"] else ("invalid" if row["has_front_matter"] else "none"),
        "auto-generated": "yes" if row["is_auto_generated"] else "no",
        "datasets / arXiv tags": f"{row['dataset_count']} / {row['arxiv_count']}",
    }
    st.dataframe(
        pl.DataFrame({"feature": list(card), "value": [str(v) for v in card.values()]}),
        hide_index=True,
        width="stretch",
    )

st.subheader("Ancestors up to the root")
chain = models.ancestors(wh, model_id)
if chain.height <= 1:
    st.write("This model is the root of its family." if row["is_root"] else "No resolvable tree parent.")
else:
    st.dataframe(chain, hide_index=True, width="stretch")
    if chain["model_id"][-1] != row["root_model_id"]:
        st.caption(f"The tree path stops before the root `{row['root_model_id']}` (a cycle was broken there).")

declared = models.parents(wh, model_id)
if declared.height:
    st.subheader("Declared parents")
    st.dataframe(declared, hide_index=True, width="stretch")

st.subheader("Children by relation")
by_relation = models.children_by_relation(wh, model_id)
if by_relation.height == 0:
    st.write("No crawled model names this one as its parent.")
else:
    st.altair_chart(
        alt.Chart(by_relation)
        .mark_bar()
        .encode(
            x="children:Q",
            y=alt.Y("relation:N", title=None),
            color=alt.Color("relation:N", scale=ui.relation_scale(), legend=None),
        )
        .properties(height=40 + 30 * by_relation.height),
        width="stretch",
    )
    kids = models.children(wh, model_id)
    st.caption(f"Showing {kids.height:,} of {int(by_relation['children'].sum()):,} children, most downloaded first.")
    st.dataframe(kids, hide_index=True, width="stretch")

st.subheader("Safety evidence")
if not safety_evidence.has_family_safety(wh):
    st.info(f"This warehouse has no `fct_family_safety` (safety beside families) yet: {warehouse.REBUILD}.")
else:
    own = safety_evidence.model_evaluations(wh, model_id)
    placed = safety_evidence.model_family_safety(wh, model_id)
    if own.height:
        summary = safety_evidence.evidence_summary(wh, model_id)
        phrase = safety_evidence.evidence_phrase(summary) if summary else f"{own.height} evaluation row(s)"
        st.markdown(f"**Evaluated**: {phrase} ({', '.join(own['evidence_label'].unique().sort().to_list())}).")
        st.dataframe(own, hide_index=True, width="stretch")
    elif placed is not None and placed["has_evaluated_ancestor"]:
        ancestor = placed["nearest_evaluated_model_id"]
        sentence = safety_evidence.inheritance_sentence(placed, safety_evidence.evidence_summary(wh, ancestor))
        st.markdown(f"**No evaluation of its own**: {model_id} {sentence}.")
        if placed["equally_near_evaluated_ancestors"] > 1:
            st.caption(
                f"{placed['equally_near_evaluated_ancestors']} evaluated ancestors are equally near (a merge); "
                "the one with the smallest id is named."
            )
        st.caption("Path: " + " → ".join(placed["path_model_ids"]))
        st.markdown(safety_evidence.evidence_caveat(safety_evidence.nest_fine_tuned_figure(wh)))
        st.markdown(f"**{ancestor}'s evaluations** (the ancestor's results, not this model's):")
        st.dataframe(safety_evidence.model_evaluations(wh, ancestor), hide_index=True, width="stretch")
        ui.page_link("model", f"Look up {ancestor}", {"model": ancestor})
    elif placed is not None:
        st.write(
            "No evaluation of its own and no evaluated ancestor, though its family has evaluated members "
            "(see the family explorer)."
        )
    else:
        st.write("No safety evaluation of this model, of any ancestor, or of any member of its family.")

st.subheader("Licence conflicts on its edges")
conflicts = models.model_conflicts(wh, model_id)
if conflicts.height == 0:
    st.write("None: no licence-obligation rule is broken on this model's edges.")
else:
    st.dataframe(conflicts, hide_index=True, width="stretch")

st.subheader("Downloads and likes over time")
intervals = models.model_counters(wh, model_id)
if intervals is None:
    st.info(warehouse.missing_history(wh, "`fct_model_counters` table"))
elif intervals.height == 0:
    st.write("No counters were observed for this model.")
else:
    st.caption(
        f"{intervals.height} interval(s) of unchanged counters, from `fct_model_counters`: the Hub only gives "
        "today's 30-day and all-time figures, so each nightly counters sweep or listing crawl observes them, and "
        "a new interval starts when they change. Points mark where an interval starts, where the model was no "
        "longer listed, and its last sighting; the step holds a value until a different one was seen."
    )
    steps = models.counter_steps(intervals, lifecycle["last_seen_at"] if lifecycle else None)
    over_time = {"x": "observed_at", "x_title": "observed (UTC)", "interpolate": "step-after"}
    left, right = st.columns(2)
    with left:
        st.altair_chart(ui.daily_downloads(steps, **over_time), width="stretch")
    with right:
        st.altair_chart(ui.daily_line(steps, "likes", "Likes", ["likes", "observation"], **over_time), width="stretch")
    st.dataframe(intervals, hide_index=True, width="stretch")

st.subheader("Lifecycle")
if lifecycle is None:
    st.info(
        f"No lifecycle for this model: {warehouse.HISTORY_HINT}."
        if not warehouse.has_table(wh, "dim_model_lifecycle")
        else "No crawl or sweep in the landing listed this model."
    )
else:
    status = lifecycle["lifecycle_status"]
    facts = st.columns(5)
    facts[0].metric("Lifecycle", status)
    facts[1].metric(
        "First seen", _day(lifecycle["first_seen_at"]), help="Start of the first crawl or sweep listing it."
    )
    facts[2].metric("Last seen", _day(lifecycle["last_seen_at"]))
    facts[3].metric(
        "Renamed to" if status == "renamed" else "Gone since",
        lifecycle["renamed_to_model_id"] if status == "renamed" else _day(lifecycle["disappeared_at"]),
        help="Set when the first completed id sweep after the last sighting did not list the model.",
    )
    facts[4].metric(
        "Sightings",
        # crawls_seen: the column's name in warehouses built before issue 13
        ui.number(lifecycle.get("sightings", lifecycle.get("crawls_seen"))),
        help="Landing rows that listed the model: one per crawl or sweep listing it (listing crawls, "
        "counters sweeps, id sweeps).",
    )
    if lifecycle["renamed_from"]:
        st.caption("Renamed from: " + ", ".join(f"`{old}`" for old in lifecycle["renamed_from"]))

st.subheader("History across crawls")
history = models.model_history(wh, model_id)
st.dataframe(history, hide_index=True, width="stretch")

with st.expander("Every field of the model (dim_models)"):
    st.dataframe(
        pl.DataFrame({"column": list(row), "value": [str(v) for v in row.values()]}),
        hide_index=True,
        width="stretch",
    )
with st.expander("Model card (first 4,000 characters, shown as plain text)"):
    text = models.card_text(wh, model_id)
    if text:
        st.code(text, language=None, wrap_lines=True)
    else:
        st.write("No card text was fetched for this model.")

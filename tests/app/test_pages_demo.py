"""Every page against the demo ecosystem (built with analytics): the values shown match the ground truth."""

from __future__ import annotations

import duckdb
import pytest

from tests.support.pages import PAGES, metrics, run_page, texts


def _query(demo_app, sql: str, params: list | None = None):
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{demo_app.warehouse}' as w (read_only)")
        con.execute("use w")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _deepest_model(manifest) -> tuple[str, int, str]:
    """The deepest model outside any cycle, its depth and its root (from the generator's ground truth)."""
    in_cycles = {model for cycle in manifest.cycles for model in cycle}
    model_id, depth = max(
        ((m, d) for m, d in manifest.expected_depth.items() if m not in in_cycles), key=lambda item: (item[1], item[0])
    )
    root = model_id
    while manifest.tree_parent.get(root):
        root = manifest.tree_parent[root]
    return model_id, depth, root


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(demo_app, monkeypatch, page):
    run_page(page, demo_app.data_dir, monkeypatch)


def test_overview_counts(demo_app, monkeypatch):
    at = run_page("overview", demo_app.data_dir, monkeypatch)
    shown = metrics(at)
    manifest = demo_app.manifest
    assert shown["Models"] == f"{manifest.model_count:,}"
    families = _query(demo_app, "select count(*), count(*) filter (where not is_singleton) from dim_families")[0]
    assert shown["Families"] == f"{families[0]:,}"
    assert shown["Multi-model families"] == f"{families[1]:,}"
    relations = at.dataframe[0].value
    edges = dict(_query(demo_app, "select relation, count(*) from fct_lineage_edges where not is_dangling group by 1"))
    assert {r: int(n) for r, n in zip(relations["relation"], relations["edges"], strict=True) if n} == edges
    assert "Synthetic demo data" in texts(at)


def test_model_lookup_deep_link_shows_root_and_generation(demo_app, monkeypatch):
    model_id, depth, root = _deepest_model(demo_app.manifest)
    at = run_page("model_lookup", demo_app.data_dir, monkeypatch, query_params={"model": model_id})
    shown = metrics(at)
    assert shown["Family root"] == root
    assert shown["Generation"] == str(depth)
    assert shown["Family size"] == f"{demo_app.manifest.family_sizes[root]:,}"
    assert at.selectbox(key="model_pick").value == model_id
    ancestors = at.dataframe[2].value  # traits, card features, then the ancestors table
    path = list(ancestors["model_id"])
    assert path[0] == model_id and path[-1] == root
    assert len(ancestors) == depth + 1


def test_model_lookup_prefix_and_fuzzy_search(demo_app, monkeypatch):
    model_id, _, _ = _deepest_model(demo_app.manifest)
    prefix = model_id[: len(model_id) // 2]
    at = run_page("model_lookup", demo_app.data_dir, monkeypatch, session_state={"model_query": prefix})
    assert model_id in at.selectbox(key="model_pick").options or any(
        option.startswith(model_id) for option in at.selectbox(key="model_pick").options
    )
    misspelt = model_id.replace("/", "/x", 1)
    at = run_page("model_lookup", demo_app.data_dir, monkeypatch, session_state={"model_query": misspelt})
    options = at.selectbox(key="model_pick").options
    assert any(model_id in option for option in options), options


def test_model_lookup_unknown_model_says_so(demo_app, monkeypatch):
    at = run_page("model_lookup", demo_app.data_dir, monkeypatch, session_state={"model_query": "§§§ ¤¤¤"})
    assert "No model matches" in at.warning[0].value


def test_family_explorer_largest_family(demo_app, monkeypatch):
    sizes = demo_app.manifest.family_sizes
    root = max(sizes, key=lambda r: (sizes[r], r))
    at = run_page("family_explorer", demo_app.data_dir, monkeypatch, query_params={"family": root})
    shown = metrics(at)
    assert shown["Models"] == f"{sizes[root]:,}"
    members = [m for m, d in demo_app.manifest.expected_depth.items() if _root_of(demo_app.manifest, m) == root]
    assert shown["Depth"] == str(max(demo_app.manifest.expected_depth[m] for m in members))
    dot = at.get("graphviz_chart")[0].proto.spec
    assert root.split("/", 1)[1][:20] in dot and "->" in dot


def _root_of(manifest, model_id: str) -> str:
    while manifest.tree_parent.get(model_id):
        model_id = manifest.tree_parent[model_id]
    return model_id


def test_family_explorer_depth_limit_folds_nodes(demo_app, monkeypatch):
    sizes = demo_app.manifest.family_sizes
    root = max(sizes, key=lambda r: (sizes[r], r))
    at = run_page(
        "family_explorer",
        demo_app.data_dir,
        monkeypatch,
        query_params={"family": root},
        session_state={"tree_depth": 1, "tree_children": 2},
    )
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "more children" in dot
    assert dot.count("->") <= 3


def test_drift_shows_ours_beside_the_paper(demo_app, monkeypatch):
    at = run_page("drift", demo_app.data_dir, monkeypatch)
    assert not at.info  # analytics were built
    tables = [element.value for element in at.dataframe]
    mutation = tables[0]
    assert set(mutation["trait"]) == {"license_ids", "language_codes", "pipeline_tag", "library_name"}
    paper = tables[-1]
    row = paper[paper["metric"] == "mutation_rate_language"]
    assert float(row["paper (2025-07-12)"].iloc[0]) == pytest.approx(0.2419)


def test_similarity_plots_every_pair_type(demo_app, monkeypatch):
    at = run_page("similarity", demo_app.data_dir, monkeypatch)
    table = at.dataframe[0].value
    expected = _query(
        demo_app,
        "select count(*) from analytics.similarity where genome = (select genome from analytics.similarity limit 1)",
    )[0][0]
    assert len(table) == expected
    scored = table.dropna(subset=["mean", "ci_low", "ci_high"])
    assert len(scored) > 0
    assert ((scored["ci_low"] <= scored["mean"] + 1e-9) & (scored["mean"] <= scored["ci_high"] + 1e-9)).all()


def test_licences_counts_and_search(demo_app, monkeypatch):
    total = _query(demo_app, "select count(*) from fct_license_conflicts")[0][0]
    at = run_page("licences", demo_app.data_dir, monkeypatch)
    assert metrics(at)["Conflicts"] == f"{total:,}"
    child = _query(demo_app, "select child_model_id from fct_license_conflicts order by conflict_id limit 1")[0][0]
    at = run_page("licences", demo_app.data_dir, monkeypatch, session_state={"conflict_search": child})
    edges = at.dataframe[-1].value
    assert len(edges) >= 1 and child in set(edges["child_model_id"]) | set(edges["parent_model_id"])


def test_safety_labels_published_figures_and_explains_how_to_add_evaluations(demo_app, monkeypatch):
    at = run_page("safety", demo_app.data_dir, monkeypatch)
    shown = texts(at)
    assert "NeST v1 (2026-02-18)" in shown and "population: open-weight LLMs" in shown
    # the bundled reference set is listed, but evaluates no model of the synthetic Hub
    assert "bundled reference (JailbreakBench 2024)" in shown
    assert "No model in this warehouse has a per-model safety evaluation" in at.info[0].value
    assert "The evaluations above are of models this warehouse does not hold" in at.info[0].value
    assert "model_id,method,attack_or_benchmark,metric,value,source" in shown
    assert "`hubgenome safety import FILE`" in shown


def test_sql_console_runs_a_query_and_refuses_a_write(demo_app, monkeypatch):
    at = run_page(
        "sql_console",
        demo_app.data_dir,
        monkeypatch,
        session_state={"sql_query": "select count(*) as n from dim_models"},
    )
    at.button(key="sql_run").click().run()
    assert not at.exception
    assert int(at.dataframe[-1].value["n"].iloc[0]) == demo_app.manifest.model_count
    assert "1 rows" in at.success[0].value
    at.text_area(key="sql_query").set_value("drop table dim_models")
    at.button(key="sql_run").click().run()
    assert "DROP statements are not allowed" in at.error[0].value

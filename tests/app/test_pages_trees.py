"""Every page against the real trees-2025-04 corpus, built with its analytics as every published warehouse is."""

from __future__ import annotations

import pytest

from tests.support.pages import PAGES, metrics, run_page, texts
from tests.support.warehouses import query


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(trees_app, monkeypatch, page):
    run_page(page, trees_app.data_dir, monkeypatch)


def test_overview_counts(trees_app, monkeypatch):
    shown = metrics(run_page("overview", trees_app.data_dir, monkeypatch))
    assert shown["Models"] == "1,815"
    assert shown["Families"] == "15"


def test_known_model_family_root_and_generation(trees_app, monkeypatch):
    at = run_page(
        "model_lookup",
        trees_app.data_dir,
        monkeypatch,
        query_params={"model": "Minbyul/meditron-7b-dpo-full-sft-wo-live_qa"},
    )
    shown = metrics(at)
    assert shown["Family root"] == "meta-llama/Llama-2-7b"
    assert shown["Generation"] == "3"


def test_case_insensitive_deep_link(trees_app, monkeypatch):
    at = run_page("model_lookup", trees_app.data_dir, monkeypatch, query_params={"model": "deepseek-ai/deepseek-r1"})
    assert at.selectbox(key="model_pick").value == "deepseek-ai/DeepSeek-R1"
    assert metrics(at)["Generation"] == "0"


def test_largest_family_is_first(trees_app, monkeypatch):
    at = run_page("family_explorer", trees_app.data_dir, monkeypatch)
    assert at.selectbox(key="family_pick").value == "meta-llama/Llama-2-7b-chat-hf"
    assert metrics(at)["Models"] == "454"


def test_analytics_pages_read_the_analytics_schema(trees_app, monkeypatch):
    for page in ("drift", "similarity"):
        at = run_page(page, trees_app.data_dir, monkeypatch)
        assert not at.info, (page, [info.value for info in at.info])
        assert at.dataframe, page
    drift = run_page("drift", trees_app.data_dir, monkeypatch)
    assert "From `analytics.trait_transitions`" in texts(drift)


def test_licences_on_real_data(trees_app, monkeypatch):
    at = run_page("licences", trees_app.data_dir, monkeypatch)
    by_rule = at.dataframe[1].value
    assert metrics(at)["Conflicts"] == f"{int(by_rule['n_conflicts'].sum()):,}"
    assert int(by_rule["n_conflicts"].sum()) > 0
    [(conflicts,)] = query(trees_app.warehouse, "select count(*) from fct_license_conflicts")
    assert metrics(at)["Conflicts"] == f"{conflicts:,}"

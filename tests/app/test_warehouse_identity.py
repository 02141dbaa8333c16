"""No warehouse, a broken one, and a newly published one: the app explains or follows, never a traceback."""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest

from hubgenome.app.tree import family_tree_dot
from hubgenome.app.warehouse import warehouse_file
from tests.support.pages import PAGES, metrics, run_page


@pytest.mark.parametrize("page", PAGES)
def test_missing_warehouse_shows_how_to_build_one(tmp_path, monkeypatch, page):
    at = run_page(page, tmp_path, monkeypatch)
    assert "No warehouse at" in at.info[0].value and "hubgenome build" in at.info[0].value


@pytest.mark.parametrize("page", ["overview", "sql_console"])
def test_a_file_that_is_not_a_warehouse_is_explained(tmp_path, monkeypatch, page):
    (tmp_path / "warehouse.duckdb").write_bytes(b"not a database at all" * 100)
    at = run_page(page, tmp_path, monkeypatch)
    assert "hubgenome build" in at.info[0].value


def test_a_database_without_marts_is_explained(tmp_path, monkeypatch):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create table something_else as select 1 as x")
    at = run_page("overview", tmp_path, monkeypatch)
    assert "no `dim_models` table" in at.info[0].value


@pytest.fixture
def old_warehouse(demo_app, tmp_path):
    """The demo warehouse as an older hubgenome published it: without the analytics schema."""
    shutil.copy(demo_app.warehouse, tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("drop schema analytics cascade")
    return tmp_path


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_an_old_warehouse_without_analytics(old_warehouse, monkeypatch, page):
    run_page(page, old_warehouse, monkeypatch)


def _says_to_rebuild(at) -> list[str]:
    return [info.value for info in at.info if "older hubgenome" in info.value and "`hubgenome build`" in info.value]


def test_an_old_warehouse_is_told_to_rebuild_not_given_substitutes(old_warehouse, demo_app, monkeypatch):
    # Drift and Similarity are analytics only: one sentence, nothing computed from the marts instead.
    for page in ("drift", "similarity"):
        at = run_page(page, old_warehouse, monkeypatch)
        assert len(at.info) == 1 and _says_to_rebuild(at), (page, [info.value for info in at.info])
        assert not at.dataframe and not at.get("vega_lite_chart"), page

    # Licence compliance: the sentence instead of the summaries; the conflicting edges (a mart) stay searchable.
    licences = run_page("licences", old_warehouse, monkeypatch)
    assert len(_says_to_rebuild(licences)) == 1
    assert "Conflicts" not in metrics(licences)
    [edges] = [table.value for table in licences.dataframe]
    assert "child_model_id" in edges.columns and len(edges) > 0

    # Overview: the sentence in the most-derived parents panel, the rest from the marts as ever.
    overview = run_page("overview", old_warehouse, monkeypatch)
    [sentence] = _says_to_rebuild(overview)
    assert "most-derived parents" in sentence
    assert metrics(overview)["Models"] == f"{demo_app.manifest.model_count:,}"


def test_newly_published_warehouse_shows_up_without_restart(demo_app, tmp_path, monkeypatch):
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_app.warehouse, target)
    first = warehouse_file(target)
    assert metrics(run_page("overview", tmp_path, monkeypatch))["Models"] == f"{demo_app.manifest.model_count:,}"

    # publish a new build the way hubgenome.flows.build does: write beside, then os.replace
    building = tmp_path / "warehouse.duckdb.building-test"
    shutil.copy(demo_app.warehouse, building)
    with duckdb.connect(str(building)) as con:
        con.execute(
            "delete from dim_models where model_id in (select model_id from dim_models order by model_id limit 10)"
        )
        con.execute("checkpoint")
    os.replace(building, target)
    assert warehouse_file(target) != first
    shown = metrics(run_page("overview", tmp_path, monkeypatch))
    assert shown["Models"] == f"{demo_app.manifest.model_count - 10:,}"


def test_tree_drawing_folds_wide_and_deep_families():
    import polars as pl

    children = [f"o/c{i}" for i in range(30)]
    grandchildren = [f"o/g{i}" for i in range(5)]
    members = pl.DataFrame(
        {
            "model_id": ["o/root", *children, *grandchildren],
            "tree_parent_model_id": [None, *["o/root"] * 30, *["o/c0"] * 5],
            "relation": [None, *(["finetune", "adapter", "quantized"] * 10), *["merge"] * 5],
            "downloads": [100, *range(30, 0, -1), *[1] * 5],
        }
    )
    full = family_tree_dot(members, "o/root", max_depth=5, max_children=100)
    assert full.models_drawn == 36 and full.models_folded == 0
    folded = family_tree_dot(members, "o/root", max_depth=1, max_children=4)
    assert folded.models_drawn == 5  # the root and its 4 most downloaded children
    assert folded.models_folded == 31  # 26 children + the 5 grandchildren under c0
    assert "+26 more children" in folded.dot and "+5 below" in folded.dot
    assert "#d62728" not in folded.dot  # merge edges are all folded away
    capped = family_tree_dot(members, "o/root", max_depth=5, max_children=100, max_nodes=10)
    assert capped.models_drawn == 10

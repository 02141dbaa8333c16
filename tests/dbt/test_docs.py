"""dbt docs are the data dictionary: every model, seed and column is described, and docs generate."""

from __future__ import annotations

import json
from pathlib import Path

from hubgenome.core.paths import dbt_project_dir
from hubgenome.flows.build import run_dbt
from tests.support.warehouses import query


def test_every_model_and_column_is_described(tiny_warehouse: Path, tmp_path: Path) -> None:
    run_dbt(["parse"], raw_db=tiny_warehouse, build_db=tmp_path / "parse.duckdb", dbt_dir=tmp_path)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    missing: list[str] = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in {"model", "seed"}:
            continue
        if not node["description"].strip():
            missing.append(node["name"])
        for column in node["columns"].values():
            if not column["description"].strip():
                missing.append(f"{node['name']}.{column['name']}")
        if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral":
            built = {
                name
                for (name,) in query(
                    tiny_warehouse,
                    "select column_name from information_schema.columns where table_name = ?",
                    [node["alias"]],
                )
            }
            missing.extend(f"{node['name']}.{name} (undocumented)" for name in built - set(node["columns"]))
    assert not missing, missing
    assert "__overview__" in {doc["name"] for doc in manifest["docs"].values()}


def test_docs_generate(tiny_warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(tiny_warehouse.read_bytes())
    run_dbt(["docs", "generate"], raw_db=tiny_warehouse, build_db=copy, dbt_dir=tmp_path)
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert any(key.endswith("dim_models") for key in catalog["nodes"])
    assert (dbt_project_dir() / "dbt_project.yml").exists()

"""dbt unit tests (fixed inputs, expected rows) run here: `hubgenome build` leaves them out."""

from __future__ import annotations

import json
from pathlib import Path

from hubgenome.flows.build import run_dbt


def _unit_test_ids(manifest: Path) -> set[str]:
    return set(json.loads(manifest.read_text())["unit_tests"])


def test_dbt_unit_tests_pass(tiny_warehouse: Path, tmp_path: Path) -> None:
    # Unit tests read the column types of their inputs from the warehouse: run them on a copy.
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(tiny_warehouse.read_bytes())
    outcomes = run_dbt(["test", "--select", "test_type:unit"], raw_db=tiny_warehouse, build_db=copy, dbt_dir=tmp_path)
    expected = _unit_test_ids(tmp_path / "target" / "manifest.json")
    assert "unit_test.hubgenome.stg_hub__model_tags.tag_classification" in expected
    assert {o.unique_id for o in outcomes} == expected
    failed = [(o.unique_id, o.status, o.message) for o in outcomes if o.status != "pass"]
    assert not failed, failed

"""The import layers ``make lint`` enforces: kept by the code as it is, broken by a violation.

Each test assembles the namespace as the wheel lays it out (``scripts/check_layers.py``) in a
temporary folder, so a violation is planted in a copy and never in the checkout.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_layers.py"


@pytest.fixture(scope="module")
def check_layers():
    if not SCRIPT.exists():
        pytest.skip(f"{SCRIPT} is part of the checkout, not of an installed hubgenome")
    spec = importlib.util.spec_from_file_location("check_layers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plant(tree: Path, module: str, source: str) -> None:
    path = tree / Path(*module.split(".")).with_suffix(".py")
    path.write_text(source, encoding="utf-8")


def test_the_code_keeps_every_contract(check_layers, tmp_path, capsys):
    assert check_layers.check(check_layers.assemble(tmp_path)) == 0, capsys.readouterr().out


def test_an_upward_import_breaks_the_layers(check_layers, tmp_path, capsys):
    tree = check_layers.assemble(tmp_path)
    _plant(tree, "hubgenome.core.upward", "from hubgenome.flows import landing\n")

    assert check_layers.check(tree) == 1
    out = capsys.readouterr().out
    assert "hubgenome.core.upward -> hubgenome.flows.landing" in out
    assert "Layers: cli > demo > app | flows | local_hub > analytics > core BROKEN" in out


def test_the_app_may_not_import_the_crawler(check_layers, tmp_path, capsys):
    tree = check_layers.assemble(tmp_path)
    _plant(tree, "hubgenome.app.sideways", "import hubgenome.flows.crawl\n")

    assert check_layers.check(tree) == 1
    assert "hubgenome.app.sideways -> hubgenome.flows.crawl" in capsys.readouterr().out


def test_an_import_cycle_breaks_the_acyclic_contract(check_layers, tmp_path, capsys):
    tree = check_layers.assemble(tmp_path)
    _plant(tree, "hubgenome.analytics.cycle_a", "from hubgenome.analytics import cycle_b\n")
    _plant(tree, "hubgenome.analytics.cycle_b", "def later():\n    from hubgenome.analytics import cycle_a\n")

    assert check_layers.check(tree) == 1
    out = capsys.readouterr().out
    assert "No cycles are allowed in hubgenome.analytics" in out
    assert "cycle_a" in out
    assert "cycle_b" in out

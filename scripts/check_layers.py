"""Check hubgenome's import layers (the ``[tool.importlinter]`` contracts in pyproject.toml).

import-linter (through grimp) reads a package from one folder, but hubgenome's namespace is mapped
over several top-level folders (``[tool.setuptools.package-dir]``). This script assembles the
namespace exactly as the wheel lays it out, Python files only, into a temporary folder, and runs
the contracts against that copy. ``make lint`` runs it; exit status 1 means a contract is broken.

    python scripts/check_layers.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = REPO / "pyproject.toml"


def package_sources(pyproject: Path = PYPROJECT) -> dict[str, Path]:
    """Each package of the wheel → the repository folder its modules come from."""
    setuptools = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapping = setuptools.get("package-dir", {})
    sources = {}
    for package in setuptools["packages"]:
        # A package not mapped itself lives under its nearest mapped ancestor, as setuptools resolves it.
        parts = package.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in mapping:
                sources[package] = pyproject.parent / mapping[prefix] / Path(*parts[cut:])
                break
        else:
            sources[package] = pyproject.parent / Path(*parts)
    return sources


def assemble(target: Path, pyproject: Path = PYPROJECT) -> Path:
    """Copy every package's own ``.py`` files into ``target`` under its dotted name; return ``target``."""
    for package, source in package_sources(pyproject).items():
        destination = target / Path(*package.split("."))
        destination.mkdir(parents=True, exist_ok=True)
        for module in source.glob("*.py"):
            shutil.copy2(module, destination / module.name)
    return target


def check(tree: Path, pyproject: Path = PYPROJECT) -> int:
    """Run the import-linter contracts of ``pyproject`` against the namespace assembled in ``tree``."""
    from importlinter.cli import lint_imports

    # import-linter puts the working directory first on sys.path; a checkout's own hubgenome/ folder
    # (the core alone) must not shadow the assembled namespace. Nor may an already imported
    # hubgenome (grimp asks the import system where the package is): it is set aside meanwhile.
    previous = Path.cwd()
    imported = {name: sys.modules.pop(name) for name in list(sys.modules) if _is_hubgenome(name)}
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    try:
        return lint_imports(config_filename=str(pyproject.resolve()), no_cache=True, no_logo=True)
    finally:
        os.chdir(previous)
        sys.path.remove(str(tree))
        for name in [name for name in sys.modules if _is_hubgenome(name)]:
            del sys.modules[name]
        sys.modules.update(imported)


def _is_hubgenome(module_name: str) -> bool:
    return module_name == "hubgenome" or module_name.startswith("hubgenome.")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="hubgenome-layers-") as folder:
        return check(assemble(Path(folder)))


if __name__ == "__main__":
    sys.exit(main())

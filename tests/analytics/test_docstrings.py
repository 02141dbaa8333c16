"""The analytics docstrings' examples run, and every public function documents itself."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

MODULES = [
    "lineage",
    "drift",
    "similarity",
    "licenses",
    "safety",
    "reproduction",
    "_graph",
    "inputs",
    "run",
    "flow",
    "report",
    "docs",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"analytics.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_have_docstrings_and_hints(name):
    module = importlib.import_module(f"analytics.{name}")
    assert module.__doc__, f"analytics.{name} needs a module docstring saying why it exists"
    for attribute, value in vars(module).items():
        if attribute.startswith("_") or not inspect.isfunction(value) or value.__module__ != module.__name__:
            continue
        assert value.__doc__, f"analytics.{name}.{attribute} has no docstring"
        assert "return" in value.__annotations__, f"analytics.{name}.{attribute} has no return type hint"

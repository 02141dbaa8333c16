"""The analytics docstrings' examples run, and every public function documents itself."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import hubgenome.analytics

#: Every module of the package, found rather than listed, so a new module cannot escape the check.
MODULES = sorted(info.name for info in pkgutil.iter_modules(hubgenome.analytics.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"hubgenome.analytics.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_have_docstrings_and_hints(name):
    module = importlib.import_module(f"hubgenome.analytics.{name}")
    assert module.__doc__, f"analytics.{name} needs a module docstring saying why it exists"
    for attribute, value in vars(module).items():
        if attribute.startswith("_") or not inspect.isfunction(value) or value.__module__ != module.__name__:
            continue
        assert value.__doc__, f"analytics.{name}.{attribute} has no docstring"
        assert "return" in value.__annotations__, f"analytics.{name}.{attribute} has no return type hint"

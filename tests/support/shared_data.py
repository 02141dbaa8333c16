"""Where the tests find the shared data: the real corpora (``hubdata/``) and the paper's reference files.

The shared folder is ``$HUBGENOME_SHARED_DIR`` if set, else the ``shared/`` folder beside the one
holding ``tests/`` (beside the checkout). ``$HUBGENOME_HUBDATA`` still overrides the corpora folder
alone. A test that needs a file that is absent is skipped, with a message saying where to put it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: The folder holding ``tests/``: the checkout, or wherever CI copied the tests.
ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """``$HUBGENOME_SHARED_DIR``, else ``shared/`` beside the folder holding ``tests/``."""
    return Path(os.environ.get("HUBGENOME_SHARED_DIR") or ROOT.parent / "shared")


def hubdata_dir() -> Path:
    """The folder of the real corpora: ``$HUBGENOME_HUBDATA``, else ``<shared dir>/hubdata``."""
    return Path(os.environ.get("HUBGENOME_HUBDATA") or shared_dir() / "hubdata")


def corpus_path(name: str) -> Path:
    """The folder of a real corpus from shared/hubdata, or skip the test with a clear message."""
    path = hubdata_dir() / name
    if not path.is_dir():
        pytest.skip(
            f"real corpus {name!r} not found at {path}; put shared/hubdata beside the checkout "
            "(or set HUBGENOME_SHARED_DIR, or HUBGENOME_HUBDATA) to run this test"
        )
    return path


def reference_path(name: str) -> Path:
    """A file of shared/reference (the paper's published figures, ...), or skip the test with a clear message."""
    path = shared_dir() / "reference" / name
    if not path.is_file():
        pytest.skip(
            f"reference file {name!r} not found at {path}; put shared/reference beside the checkout "
            "(or set HUBGENOME_SHARED_DIR) to run this test"
        )
    return path

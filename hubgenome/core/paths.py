"""Where hubgenome's files are: the data directory the user owns and the dbt project the install ships.

One data directory holds every file the project writes or the user supplies (``--data-dir`` /
``HUBGENOME_DATA_DIR``, default ``./data``): the raw landing ``raw.duckdb``, the published
``warehouse.duckdb``, dbt's ``target/`` and logs, the demo corpus and Prefect's home. User data,
such as per-model safety evaluations, is imported into the landing. Nothing is ever written into
the checkout or the install location.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from hubgenome.core.errors import ConfigurationError


@dataclass(frozen=True)
class Paths:
    """The files under one data directory."""

    data_dir: Path

    @property
    def raw_db(self) -> Path:
        return self.data_dir / "raw.duckdb"

    @property
    def warehouse_db(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / "demo"

    @property
    def dbt_dir(self) -> Path:
        """dbt's ``target/`` (compiled SQL, run results, partial parse) and ``logs/`` for this data dir."""
        return self.data_dir / "dbt"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the explicit argument, else ``HUBGENOME_DATA_DIR``, else ``./data``."""
    chosen = data_dir or os.environ.get("HUBGENOME_DATA_DIR") or "data"
    return Path(chosen).expanduser().resolve()


def paths(data_dir: str | os.PathLike[str] | None = None) -> Paths:
    """The :class:`Paths` of the chosen data directory (created if missing)."""
    resolved = resolve_data_dir(data_dir)
    resolved.mkdir(parents=True, exist_ok=True)
    return Paths(resolved)


def dbt_project_dir() -> Path:
    """The dbt project hubgenome runs: ``hubgenome/dbt_project/`` in a wheel, ``dbt/`` of an editable checkout.

    A wheel carries the project as package data beside this package. An editable install
    (``pip install -e .``, what ``make`` does) maps ``hubgenome.dbt_project`` to the checkout's
    ``dbt/``, which the import system cannot resolve for a folder of data files; the checkout is
    found from the distribution's ``direct_url.json`` (PEP 610), never by guessing from a path.
    """
    shipped = Path(__file__).resolve().parents[1] / "dbt_project"
    if (shipped / "dbt_project.yml").is_file():
        return shipped
    checkout = _editable_checkout()
    if checkout is not None and (checkout / "dbt" / "dbt_project.yml").is_file():
        return checkout / "dbt"
    msg = (
        f"hubgenome's dbt project is missing from this install (no {shipped / 'dbt_project.yml'}); "
        "reinstall hubgenome (pip install hubgenome, or pip install -e . in a checkout)"
    )
    raise ConfigurationError(msg)


def _editable_checkout() -> Path | None:
    """The source folder of an editable install of hubgenome, from its PEP 610 ``direct_url.json``."""
    # Every installed copy is looked at: run from a checkout, the source tree's ``hubgenome.egg-info``
    # (written by the editable build, without ``direct_url.json``) comes first on ``sys.path``.
    for distribution in importlib.metadata.distributions(name="hubgenome"):
        raw = distribution.read_text("direct_url.json")
        direct_url = json.loads(raw) if raw else {}
        if direct_url.get("dir_info", {}).get("editable"):
            break
    else:
        return None
    parsed = urllib.parse.urlparse(direct_url.get("url", ""))
    return Path(urllib.request.url2pathname(parsed.path)) if parsed.scheme == "file" else None

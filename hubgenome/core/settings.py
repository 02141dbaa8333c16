"""Where hubgenome reads its configuration from: command-line options, then environment, then defaults.

One data directory holds every file the project writes (``--data-dir`` / ``HUBGENOME_DATA_DIR``,
default ``./data``): the raw landing ``raw.duckdb``, the published ``warehouse.duckdb``, the demo
corpus and Prefect's home.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_ENDPOINT = "https://huggingface.co"

#: Properties the warehouse needs from ``/api/models`` (never ``siblings``/``config``: they are huge).
CRAWL_EXPAND: tuple[str, ...] = (
    "author",
    "sha",
    "createdAt",
    "lastModified",
    "private",
    "gated",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "likes",
    "trendingScore",
    "tags",
    "pipeline_tag",
    "library_name",
    "cardData",
    "safetensors",
    "gguf",
)


def resolve_endpoint(endpoint: str | None = None) -> str:
    """The Hub endpoint: the explicit argument, else ``HF_ENDPOINT``, else the real Hub."""
    chosen = endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
    return chosen.rstrip("/")


#: Names the Dask scheduler that card fetching and the similarity scoring run on (``--dask``).
DASK_ADDRESS_ENV = "HUBGENOME_DASK_ADDRESS"


def resolve_dask_address(address: str | None = None) -> str | None:
    """The Dask scheduler to scale out on: the explicit argument, else ``HUBGENOME_DASK_ADDRESS``, else none.

    ``None`` means the local code path (threads in this process); an address such as
    ``tcp://scheduler.internal:8786`` sends the heavy work to that cluster's workers.
    """
    chosen = (address or os.environ.get(DASK_ADDRESS_ENV) or "").strip()
    return chosen or None


def configure_prefect(data_dir: Path) -> None:
    """Keep Prefect's files under the data directory and its telemetry off, unless the user chose otherwise.

    Must run before ``prefect`` is imported for the first time, since Prefect reads these at import.
    """
    prefect_home = Path(os.environ.setdefault("PREFECT_HOME", str(data_dir / "prefect")))
    prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    # The first start of Prefect's temporary API on a fresh machine migrates its database, which
    # can outlast the default 20 s on a busy 2-core machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

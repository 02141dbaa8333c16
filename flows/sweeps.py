"""Cheap whole-Hub listings that keep the history the Hub does not: counters and ids.

The Hub only tells today's 30-day and all-time downloads, and forgets a model the moment it is
deleted, renamed or made private. Two sweeps page through the whole ``/api/models`` listing with
as few properties as possible and land the answer in compact append-only tables:

* the **counters sweep** (mode ``counters``, nightly) asks only for ``downloads``,
  ``downloadsAllTime``, ``likes`` and ``trendingScore`` and lands them in ``raw_model_counters``,
  so counters become daily time series;
* the **id sweep** (mode ``ids``, weekly) asks for ids, the Hub's object id and the few small
  properties that tell a stale landing apart (``sha``, ``lastModified``, ``gated``, ``disabled``)
  and lands them in ``raw_id_sweeps``; a model present before and absent from a *completed* id
  sweep disappeared (deleted, renamed or newly private) at that sweep, and what the sweep saw
  that the landing lacks or holds stale is reconciled next (:mod:`hubgenome.flows.reconcile`). Nothing is
  ever deleted.

Both record the public Hub only: private repos a token can see are left out.

Both are crawls like any other: registered in ``crawl_runs`` (modes ``counters`` / ``ids``), landed
page by page with the cursor to the next page in the same transaction, and resumed from that
cursor when a run was interrupted.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
from prefect import get_run_logger, task

from hubgenome.core.errors import ConfigurationError
from hubgenome.core.paths import paths
from hubgenome.flows import landing
from hubgenome.flows.hub_client import HubClient
from hubgenome.flows.page_prefetcher import PagePrefetcher
from hubgenome.flows.task_options import NETWORK_TASK_OPTIONS

SweepMode = Literal["counters", "ids"]

#: The listing properties each sweep asks for (``_id`` and ``id`` always come back).
SWEEP_EXPAND: dict[str, tuple[str, ...]] = {
    "counters": ("downloads", "downloadsAllTime", "likes", "trendingScore", "private"),
    # sha, lastModified, gated and disabled tell reconciliation which landed models are stale: a
    # gating or disabled flip, a rename or a private repo made public moves no lastModified, so no
    # incremental crawl meets them (they are small scalar properties: the page stays light).
    "ids": ("createdAt", "lastModified", "sha", "gated", "disabled", "private"),
}
#: Both sweeps page in ``createdAt`` order: a keyset cursor that models created meanwhile cannot shift.
SWEEP_SORT = "createdAt"

_COUNTER_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("model_object_id", pa.string()),
        ("downloads", pa.int64()),
        ("downloads_all_time", pa.int64()),
        ("likes", pa.int64()),
        ("trending_score", pa.float64()),
    ]
)
_ID_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("model_object_id", pa.string()),
        ("model_sha", pa.string()),
        ("last_modified_at", pa.timestamp("us", tz="UTC")),
        ("gated", pa.string()),
        ("is_disabled", pa.bool_()),
    ]
)


@dataclass
class SweepSummary:
    """What one sweep did."""

    crawl_id: str
    mode: str
    endpoint: str
    resumed: bool
    pages: int = 0
    models: int = 0
    models_total: int = 0
    seconds: float = 0.0
    disappeared: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _timestamp_or_none(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _gated_text(value: object) -> str | None:
    """``gated`` as the landing's JSON text reads it (``false``, ``auto``, ``manual``), None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_private(item: dict) -> bool:
    """Whether a listing object is a private repo (listed only to a token that can see it)."""
    return item.get("private") is True


def page_rows(mode: SweepMode, items: list[dict]) -> pa.Table:
    """The landing rows of one listing page (camelCase → snake_case happens here, once).

    Private repos (a token that owns some sees them listed) are left out: the sweeps record the
    public Hub, so a model made private disappears from them like a deleted one.
    """
    items = [item for item in items if not is_private(item)]
    if mode == "counters":
        return pa.Table.from_pydict(
            {
                "model_id": [item["id"] for item in items],
                "model_object_id": [item.get("_id") for item in items],
                "downloads": [_int_or_none(item.get("downloads")) for item in items],
                "downloads_all_time": [_int_or_none(item.get("downloadsAllTime")) for item in items],
                "likes": [_int_or_none(item.get("likes")) for item in items],
                "trending_score": [_float_or_none(item.get("trendingScore")) for item in items],
            },
            schema=_COUNTER_SCHEMA,
        )
    return pa.Table.from_pydict(
        {
            "model_id": [item["id"] for item in items],
            "model_object_id": [item.get("_id") for item in items],
            "model_sha": [item.get("sha") if isinstance(item.get("sha"), str) else None for item in items],
            "last_modified_at": [_timestamp_or_none(item.get("lastModified")) for item in items],
            "gated": [_gated_text(item.get("gated")) for item in items],
            "is_disabled": [item.get("disabled") if isinstance(item.get("disabled"), bool) else None for item in items],
        },
        schema=_ID_SCHEMA,
    )


def open_sweep(
    con: duckdb.DuckDBPyConnection,
    client: HubClient,
    *,
    mode: SweepMode,
    resume: bool = True,
    page_size: int = 1000,
) -> tuple[landing.CrawlRun, bool]:
    """Resume the unfinished sweep of this mode and endpoint, or register a new one (pages of ``page_size``)."""
    if mode not in SWEEP_EXPAND:
        msg = f"Unknown sweep mode {mode!r}; choose one of {sorted(SWEEP_EXPAND)}."
        raise ConfigurationError(msg)
    if resume:
        unfinished = landing.find_resumable_run(con, mode=mode, endpoint=client.endpoint)
        if unfinished is not None:
            landing.mark_running(con, unfinished.crawl_id)
            return landing.get_run(con, unfinished.crawl_id), True
    expand = SWEEP_EXPAND[mode]
    run = landing.start_run(
        con,
        mode=mode,
        endpoint=client.endpoint,
        sort_by=SWEEP_SORT,
        expand=expand,
        first_url=client.listing_url(sort=SWEEP_SORT, expand=expand, limit=page_size),
    )
    return run, False


def sweep_listing(
    con: duckdb.DuckDBPyConnection,
    client: HubClient,
    run: landing.CrawlRun,
    *,
    on_page: Callable[[int, int, int], None] | None = None,
) -> tuple[int, int]:
    """Page through the whole listing from the run's checkpoint, landing page by page; (pages, models).

    The next page is fetched while the current one is landed (a page that keeps timing out is asked
    for at half its size, see :class:`hubgenome.flows.page_prefetcher.PagePrefetcher`). On failure the sweep is marked
    ``failed`` with its checkpoint kept, and the error re-raised.
    """
    mode: SweepMode = run.mode  # type: ignore[assignment]
    url = run.next_url
    page_number, landed, pages, models = run.pages_landed, run.models_landed, 0, 0
    if url is None:
        return 0, 0
    try:
        with PagePrefetcher(con, client, run.crawl_id) as prefetcher:
            prefetcher.submit(url)
            while prefetcher.pending:
                page = prefetcher.result()
                next_url = page.next_url
                prefetcher.submit(next_url)
                page_number += 1
                rows = page_rows(mode, page.items)
                landing.land_sweep_page(
                    con,
                    crawl_id=run.crawl_id,
                    mode=mode,
                    page_number=page_number,
                    url=page.url,
                    next_url=next_url,
                    rows=rows,
                )
                landed += rows.num_rows
                pages += 1
                models += rows.num_rows
                if on_page is not None:
                    on_page(page_number, rows.num_rows, landed)
    except BaseException as exc:
        landing.fail_run(con, run.crawl_id, f"{type(exc).__name__}: {exc}")
        raise
    return pages, models


def run_sweep(
    mode: SweepMode,
    *,
    client: HubClient,
    data_dir: str | os.PathLike[str],
    task_retries: int | None = None,
    page_size: int = 1000,
) -> SweepSummary:
    """One whole sweep of ``client``'s Hub into ``data_dir``'s landing, resuming an unfinished one.

    An id sweep also counts the models it found gone. ``task_retries`` overrides how often Prefect
    re-runs a failed listing task (each re-run resumes from the checkpoint).
    """
    raw_db = paths(data_dir).raw_db
    con = landing.connect(raw_db)
    try:
        run, resumed = open_sweep(con, client, mode=mode, page_size=page_size)
    finally:
        con.close()
    sweep_task = sweep_listing_task if task_retries is None else sweep_listing_task.with_options(retries=task_retries)
    started = time.perf_counter()
    pages, models = sweep_task(raw_db, client, run.crawl_id)
    summary = SweepSummary(crawl_id=run.crawl_id, mode=mode, endpoint=client.endpoint, resumed=resumed)
    summary.pages, summary.models, summary.seconds = pages, models, time.perf_counter() - started
    con = landing.connect(raw_db)
    try:
        landing.finish_run(con, run.crawl_id)
        summary.models_total = landing.get_run(con, run.crawl_id).models_landed
        if mode == "ids":
            summary.disappeared = len(landing.newly_disappeared(con, run.crawl_id))
    finally:
        con.close()
    return summary


def id_sweep_due(con: duckdb.DuckDBPyConnection, endpoint: str, *, every: dt.timedelta = dt.timedelta(days=7)) -> bool:
    """Whether an id sweep is due: none succeeded within ``every`` (minus an hour of slack), or one is unfinished."""
    if landing.find_resumable_run(con, mode="ids", endpoint=endpoint) is not None:
        return True
    last = landing.last_succeeded_at(con, mode="ids", endpoint=endpoint)
    return last is None or landing.utcnow() - last >= every - dt.timedelta(hours=1)


@task(name="sweep-listing", retries=3, **NETWORK_TASK_OPTIONS)
def sweep_listing_task(raw_db: Path, client: HubClient, crawl_id: str) -> tuple[int, int]:
    """Land the listing pages of one counters or id sweep, resuming from its checkpoint (retries resume too)."""
    logger = get_run_logger()
    con = landing.connect(raw_db)
    try:
        landing.mark_running(con, crawl_id)
        run = landing.get_run(con, crawl_id)
        logger.info("%s sweep %s from page %d", run.mode, crawl_id, run.pages_landed + 1)

        def on_page(page_number: int, count: int, landed: int) -> None:
            if page_number % 100 == 0:
                logger.info("%s sweep: page %d, %d models landed", run.mode, page_number, landed)

        pages, models = sweep_listing(con, client, run, on_page=on_page)
        logger.info("%s sweep %s done: %d pages, %d models", run.mode, crawl_id, pages, models)
        return pages, models
    finally:
        con.close()

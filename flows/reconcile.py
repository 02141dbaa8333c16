"""Reconciliation: land what an id sweep saw and no listing crawl will ever bring.

Incremental crawls read ``/api/models`` newest ``lastModified`` first and stop at the watermark.
Several real changes on the Hub move no ``lastModified`` and are therefore invisible to them:

* a private repo made public keeps its old ``createdAt`` and ``lastModified``;
* a rename or transfer keeps ``_id`` and ``lastModified`` (the old id answers with a redirect);
* gating and disabling flips change ``gated`` / ``disabled`` only.

The id sweep lists every public model with the few properties that tell these apart (``_id``,
``sha``, ``lastModified``, ``gated``, ``disabled``). After each completed sweep, this step compares
it with the landing (:func:`hubgenome.flows.landing.reconcile_candidates`), fetches every model the landing
lacks or holds stale through ``GET /api/models/{id}`` with the listing's properties (following
redirects, as ``huggingface_hub`` does for renamed repos), lands the objects as a crawl of mode
``reconcile`` and fetches their cards. It is idempotent: what was landed no longer differs, so a
killed run is finished by the next one.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import orjson
from prefect import get_run_logger, task

from hubgenome.core.paths import paths
from hubgenome.core.settings import CRAWL_EXPAND
from hubgenome.flows import landing
from hubgenome.flows.crawl import fetch_cards
from hubgenome.flows.hub_client import HubClient
from hubgenome.flows.options import CrawlOptions
from hubgenome.flows.task_options import NETWORK_TASK_OPTIONS

#: Models fetched and landed per transaction.
RECONCILE_BATCH_SIZE = 200


@dataclass
class ReconcileSummary:
    """What one reconciliation did."""

    sweep_crawl_id: str | None
    crawl_id: str | None = None
    candidates: dict[str, int] = field(default_factory=dict)  # by reason: new, renamed, stale
    landed: int = 0
    gone: int = 0  # 404 by the time we asked: deleted or made private since the sweep
    skipped_private: int = 0
    cards: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    sample: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def sweep_to_reconcile(con: duckdb.DuckDBPyConnection, endpoint: str) -> str | None:
    """The newest succeeded id sweep of ``endpoint``, unless a reconciliation succeeded after it started."""
    newest = landing.last_succeeded_run(con, mode="ids", endpoint=endpoint)
    if newest is None:
        return None
    reconciled = con.execute(
        """
        select count(*) from crawl_runs
        where mode = 'reconcile' and state = 'succeeded' and endpoint = ?
          and started_at > (select started_at from crawl_runs where crawl_id = ?)
        """,
        [endpoint, newest],
    ).fetchone()[0]
    return None if reconciled else newest


def reconcile(
    con: duckdb.DuckDBPyConnection,
    client: HubClient,
    sweep_crawl_id: str,
    *,
    include_private: bool = False,
    cards: bool = True,
    concurrency: int = 8,
    batch_size: int = RECONCILE_BATCH_SIZE,
) -> ReconcileSummary:
    """Land every model the sweep ``sweep_crawl_id`` saw that the landing lacks or holds stale, and its card.

    The objects come from ``GET /api/models/{id}?expand[]=...`` with the crawl's properties, so they
    have the listing's shape; a redirect (rename) is followed and the object is landed under the
    id the Hub answers with. Cards are fetched for every landed model without an ``ok`` card for
    its sha: a gating lifted or a model enabled again serves the card it refused before. A model
    gone by the time it is asked for (404) is counted, not landed;
    a private one is skipped unless ``include_private``.
    """
    started = time.perf_counter()
    summary = ReconcileSummary(sweep_crawl_id=sweep_crawl_id)
    candidates = landing.reconcile_candidates(con, sweep_crawl_id)
    summary.candidates = dict(Counter(candidate.reason for candidate in candidates))
    summary.sample = [candidate.model_id for candidate in candidates[:20]]
    run = landing.start_run(
        con,
        mode="reconcile",
        endpoint=client.endpoint,
        sort_by=None,
        expand=CRAWL_EXPAND,
        first_url=client.model_url("{id}", CRAWL_EXPAND),
    )
    summary.crawl_id = run.crawl_id
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="reconcile") as pool:
            for number, start in enumerate(range(0, len(candidates), batch_size), start=1):
                batch = candidates[start : start + batch_size]
                objects = list(pool.map(lambda c: client.fetch_model(c.model_id, CRAWL_EXPAND), batch))
                ids: list[str] = []
                payloads: list[str] = []
                gone: list[str] = []
                for candidate, obj in zip(batch, objects, strict=True):
                    if obj is None:
                        gone.append(candidate.model_id)
                    elif obj.get("private") is True and not include_private:
                        summary.skipped_private += 1
                    elif obj["id"] not in ids:
                        ids.append(obj["id"])
                        payloads.append(orjson.dumps(obj).decode())
                landing.land_page(
                    con,
                    crawl_id=run.crawl_id,
                    page_number=number,
                    url=f"{client.endpoint}/api/models?reconcile={sweep_crawl_id}&batch={number}",
                    next_url=None,
                    model_ids=ids,
                    payloads=payloads,
                )
                landing.record_gone(con, run.crawl_id, gone)
                summary.landed += len(ids)
                summary.gone += len(gone)
        if cards:
            todo = landing.models_without_ok_card(con, run.crawl_id)
            summary.cards = dict(fetch_cards(con, client, run.crawl_id, concurrency=concurrency, todo=todo))
    except BaseException as exc:
        landing.fail_run(con, run.crawl_id, f"{type(exc).__name__}: {exc}")
        raise
    landing.finish_run(con, run.crawl_id)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


@task(name="reconcile-sweep", retries=2, **NETWORK_TASK_OPTIONS)
def reconcile_task(raw_db: Path, client: HubClient, sweep_crawl_id: str, options: CrawlOptions) -> ReconcileSummary:
    """Land what the id sweep saw and the landing lacks or holds stale (each retry recomputes what is left)."""
    logger = get_run_logger()
    con = landing.connect(raw_db)
    try:
        summary = reconcile(
            con,
            client,
            sweep_crawl_id,
            include_private=options.include_private,
            cards=options.cards,
            concurrency=options.card_concurrency,
        )
    finally:
        con.close()
    logger.info(
        "Reconciled sweep %s: candidates %s, %d landed, %d gone, %d private skipped, cards %s",
        sweep_crawl_id,
        summary.candidates or "none",
        summary.landed,
        summary.gone,
        summary.skipped_private,
        summary.cards or "none",
    )
    return summary


def run_reconcile(
    *,
    client: HubClient,
    data_dir: str | os.PathLike[str],
    options: CrawlOptions | None = None,
    sweep_crawl_id: str | None = None,
    task_retries: int | None = None,
) -> ReconcileSummary:
    """Reconcile the landing with an id sweep: the given one, else the newest one not reconciled yet.

    ``options`` are the crawl's (its ``cards``, ``card_concurrency`` and ``include_private`` apply
    here too, so reconciled models are landed like crawled ones). Returns a summary whose
    ``crawl_id`` is None when there was nothing to reconcile.
    """
    raw_db = paths(data_dir).raw_db
    con = landing.connect(raw_db)
    try:
        sweep = sweep_crawl_id or sweep_to_reconcile(con, client.endpoint)
    finally:
        con.close()
    if sweep is None:
        return ReconcileSummary(sweep_crawl_id=None)
    task_fn = reconcile_task if task_retries is None else reconcile_task.with_options(retries=task_retries)
    return task_fn(raw_db, client, sweep, options or CrawlOptions())

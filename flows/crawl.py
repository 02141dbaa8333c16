"""Crawling the Hub into the raw landing: plain functions, and the ``crawl-hub`` Prefect flow over them.

A crawl pages through ``/api/models`` (``full``: newest ``createdAt`` first; ``incremental``: newest
``lastModified`` first, stopping at the previous crawl's watermark minus an overlap), lands each
page together with the cursor to the next one in one transaction, then fetches the README of every
model that is new or whose ``sha`` changed. Killed at any point, the next ``crawl`` of the same mode
and endpoint resumes from the saved cursor.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import orjson
from prefect import flow, get_run_logger, task

from hubgenome.core.errors import ConfigurationError, HubCrawlError
from hubgenome.core.paths import paths, resolve_data_dir
from hubgenome.core.settings import CRAWL_EXPAND, resolve_dask_address, resolve_endpoint
from hubgenome.flows import landing
from hubgenome.flows.hub_client import HubClient, ListingPage
from hubgenome.flows.options import (
    CARD_BATCH_SIZE,
    DEFAULT_CARD_BACKLOG_LIMIT,
    DEFAULT_OVERLAP,
    CrawlMode,
    CrawlOptions,
)
from hubgenome.flows.page_prefetcher import PagePrefetcher
from hubgenome.flows.progress import progress_bars, progress_wanted
from hubgenome.flows.scale_out import fetch_cards_on_dask
from hubgenome.flows.task_options import NETWORK_TASK_OPTIONS

SORT_BY_MODE: dict[str, str] = {"full": "createdAt", "incremental": "lastModified"}

logger = logging.getLogger(__name__)

PageCallback = Callable[[int, int, int], None]
"""Called after each landed page with (page number, models on the page, models landed so far)."""


@dataclass
class ListingResult:
    pages: int = 0
    models: int = 0
    stopped_at_watermark: bool = False
    seconds: float = 0.0
    skipped_private: int = 0
    pages_shrunk: int = 0


@dataclass
class CrawlSummary:
    """What one crawl did, as printed by the CLI and returned by the flow."""

    crawl_id: str
    mode: str
    endpoint: str
    resumed: bool
    pages: int = 0
    models: int = 0
    models_total: int = 0
    cards: dict[str, int] = field(default_factory=dict)
    skipped_private: int = 0
    cards_backlog: dict[str, int] = field(default_factory=dict)
    cards_backlog_remaining: int = 0
    cards_backlog_sample: list[str] = field(default_factory=list)
    listing_seconds: float = 0.0
    cards_seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    rate_limit_wait_seconds: float = 0.0
    pacing_wait_seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def _parse_hub_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _modified_at(item: dict) -> dt.datetime | None:
    return _parse_hub_time(item.get("lastModified") or item.get("createdAt"))


# -- plain functions -----------------------------------------------------------------------------------


def open_crawl(
    con: duckdb.DuckDBPyConnection,
    client: HubClient,
    *,
    mode: CrawlMode,
    overlap: dt.timedelta = DEFAULT_OVERLAP,
    resume: bool = True,
) -> tuple[landing.CrawlRun, bool]:
    """Resume the unfinished crawl of this mode and endpoint, or register a new one.

    Returns the run and whether it was resumed.
    """
    if mode not in SORT_BY_MODE:
        msg = f"Unknown crawl mode {mode!r}; choose one of {sorted(SORT_BY_MODE)}."
        raise ConfigurationError(msg)
    if resume:
        unfinished = landing.find_resumable_run(con, mode=mode, endpoint=client.endpoint)
        if unfinished is not None:
            landing.mark_running(con, unfinished.crawl_id)
            return landing.get_run(con, unfinished.crawl_id), True
    stop_before = None
    if mode == "incremental":
        watermark = landing.last_watermark(con, client.endpoint)
        if watermark is None:
            msg = (
                f"No successful crawl of {client.endpoint} to continue from: "
                "run `hubgenome crawl --mode full` once before incremental crawls."
            )
            raise ConfigurationError(msg)
        stop_before = watermark - overlap
    sort_by = SORT_BY_MODE[mode]
    first_url = client.listing_url(sort=sort_by, expand=CRAWL_EXPAND)
    run = landing.start_run(
        con,
        mode=mode,
        endpoint=client.endpoint,
        sort_by=sort_by,
        expand=CRAWL_EXPAND,
        first_url=first_url,
        stop_before=stop_before,
    )
    return run, False


@dataclass
class _PageSplit:
    ids: list[str]
    payloads: list[str]
    last: bool
    skipped_private: int = 0


def _split_page(
    page: ListingPage, *, stop_before: dt.datetime | None, room: int | None, include_private: bool = False
) -> _PageSplit:
    """The ids and verbatim JSON of a page's models to land, and whether the crawl ends with this page.

    Private repos (listed to a token that can see them) are skipped unless ``include_private``: a
    public warehouse must never hold them, and they are landed as they are (``"private": true``)
    only when asked for. They still count for the watermark stop.
    """
    split = _PageSplit([], [], False)
    for item in page.items:
        if room is not None and len(split.ids) >= room:
            split.last = True
            return split
        if stop_before is not None:
            modified = _modified_at(item)
            if modified is not None and modified < stop_before:
                split.last = True
                return split
        if item.get("private") is True and not include_private:
            split.skipped_private += 1
            continue
        split.ids.append(item["id"])
        split.payloads.append(orjson.dumps(item).decode())
    split.last = page.next_url is None
    return split


def crawl_listing(
    con: duckdb.DuckDBPyConnection,
    client: HubClient,
    run: landing.CrawlRun,
    *,
    limit: int | None = None,
    on_page: PageCallback | None = None,
    include_private: bool = False,
) -> ListingResult:
    """Page through the listing from the run's checkpoint to its end, landing page by page.

    The next page is fetched while the current one is being landed; the checkpoint written with a
    page is always that page's own ``next`` link, so a crash between the two loses nothing.
    Private repos are skipped unless ``include_private`` (see :func:`_split_page`).
    On failure the run is marked ``failed`` with its checkpoint kept, and the error re-raised.
    """
    result = ListingResult()
    started = time.perf_counter()
    url = run.next_url
    page_number = run.pages_landed
    landed = run.models_landed
    if url is None:
        return result
    try:
        with PagePrefetcher(con, client, run.crawl_id) as prefetcher:
            prefetcher.submit(url)
            while prefetcher.pending:
                page = prefetcher.result()
                room = None if limit is None else max(0, limit - landed)
                split = _split_page(page, stop_before=run.stop_before, room=room, include_private=include_private)
                next_url = None if split.last else page.next_url
                prefetcher.submit(next_url)
                page_number += 1
                landing.land_page(
                    con,
                    crawl_id=run.crawl_id,
                    page_number=page_number,
                    url=page.url,
                    next_url=next_url,
                    model_ids=split.ids,
                    payloads=split.payloads,
                    hub_date=page.hub_date,
                )
                landed += len(split.ids)
                result.pages += 1
                result.models += len(split.ids)
                result.skipped_private += split.skipped_private
                result.stopped_at_watermark = split.last and page.next_url is not None and room is None
                if on_page is not None:
                    on_page(page_number, len(split.ids), landed)
            result.pages_shrunk = prefetcher.pages_shrunk
    except BaseException as exc:
        landing.fail_run(con, run.crawl_id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        result.seconds = time.perf_counter() - started
    return result


def fetch_cards(
    con: duckdb.DuckDBPyConnection,
    client: HubClient,
    crawl_id: str,
    *,
    concurrency: int = 8,
    batch_size: int = CARD_BATCH_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
    todo: list[tuple[str, str | None]] | None = None,
) -> Counter[str]:
    """Fetch the README of every model of the crawl whose card is unsettled for its current sha.

    ``todo`` names other (model id, sha) pairs to fetch instead (the card backlog); the outcomes
    are landed under ``crawl_id`` either way. Outcomes (``ok``, ``missing``, ``gated``, ``error``
    with the HTTP status) are landed ``batch_size`` at a time; a failure of one model never stops the others.
    Returns the count of each outcome.
    """
    if todo is None:
        todo = landing.models_needing_cards(con, crawl_id)
    outcomes: Counter[str] = Counter()
    if not todo:
        return outcomes
    batch: list[landing.CardFetch] = []
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="cards") as pool:
        futures = [pool.submit(client.fetch_card, model_id, sha) for model_id, sha in todo]
        try:
            for future in as_completed(futures):
                fetch = future.result()
                batch.append(fetch)
                outcomes[fetch.status] += 1
                done += 1
                if len(batch) >= batch_size:
                    landing.land_cards(con, crawl_id, batch)
                    batch = []
                if on_progress is not None:
                    on_progress(done, len(todo))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        finally:
            landing.land_cards(con, crawl_id, batch)
    return outcomes


@dataclass
class BacklogResult:
    """What one night's pass over the card backlog did."""

    outcomes: dict[str, int]
    remaining: int
    sample: list[str]


def fetch_card_backlog(
    con: duckdb.DuckDBPyConnection,
    client: HubClient,
    crawl_id: str,
    *,
    limit: int = DEFAULT_CARD_BACKLOG_LIMIT,
    concurrency: int = 8,
    include_private: bool = False,
    sample_size: int = 20,
) -> BacklogResult:
    """Fetch cards still owed from earlier crawls, oldest first, at most ``limit`` per call.

    Owed: the model's latest landed sha has no settled card (only ``error`` outcomes, or never
    fetched: models landed by reconciliation, or by a crawl run with ``--no-cards``). Without this,
    a resolver outage longer than one crawl's retries would leave those cards missing until the
    model happened to be modified again. Cards this crawl already tried are left for the next one.
    Returns the outcomes, what is still owed afterwards and a sample of those ids.
    """
    owed = {"include_private": include_private, "endpoint": client.endpoint}
    todo, _ = landing.card_backlog(con, limit=limit, tried_in_crawl_id=crawl_id, **owed)
    outcomes = fetch_cards(con, client, crawl_id, concurrency=concurrency, todo=todo) if todo else Counter()
    remaining, total = landing.card_backlog(con, limit=sample_size, **owed)
    return BacklogResult(dict(outcomes), total, [model_id for model_id, _ in remaining])


# -- Prefect -------------------------------------------------------------------------------------------


@task(name="crawl-listing", retries=3, **NETWORK_TASK_OPTIONS)
def crawl_listing_task(
    raw_db: Path, client: HubClient, crawl_id: str, options: CrawlOptions, show_progress: bool
) -> ListingResult:
    """Land the listing pages of one crawl, resuming from its checkpoint (each retry resumes too)."""
    logger = get_run_logger()
    con = landing.connect(raw_db)
    try:
        landing.mark_running(con, crawl_id)
        run = landing.get_run(con, crawl_id)
        if run.next_url is None:
            logger.info("Listing of %s already complete (%d models).", crawl_id, run.models_landed)
            return ListingResult()
        logger.info("Listing %s from page %d (%s)", crawl_id, run.pages_landed + 1, run.next_url)
        with progress_bars(show_progress) as progress:
            bar = progress.add_task("listing", total=None, rate="") if progress else None
            started = time.perf_counter()

            def on_page(page_number: int, count: int, landed: int) -> None:
                logger.info("page %d: %d models landed (%d in this crawl)", page_number, count, landed)
                if progress is not None:
                    rate = (landed - run.models_landed) / max(time.perf_counter() - started, 1e-9)
                    progress.update(bar, completed=landed, rate=f"{rate:,.0f} models/s")

            result = crawl_listing(
                con, client, run, limit=options.limit, on_page=on_page, include_private=options.include_private
            )
        logger.info(
            "Listing done: %d pages, %d models in %.1f s%s%s%s",
            result.pages,
            result.models,
            result.seconds,
            " (stopped at the previous watermark)" if result.stopped_at_watermark else "",
            f"; {result.skipped_private} private repos skipped" if result.skipped_private else "",
            f"; {result.pages_shrunk} pages asked for at half size after timeouts" if result.pages_shrunk else "",
        )
        return result
    finally:
        con.close()


@task(name="fetch-cards", retries=2, **NETWORK_TASK_OPTIONS)
def fetch_cards_task(
    raw_db: Path, client: HubClient, crawl_id: str, options: CrawlOptions, show_progress: bool
) -> dict[str, int]:
    """Fetch the cards of the crawl's new or changed models with bounded concurrency."""
    logger = get_run_logger()
    con = landing.connect(raw_db)
    try:
        with progress_bars(show_progress) as progress:
            bar = progress.add_task("cards", total=None, rate="") if progress else None
            started = time.perf_counter()

            def on_progress(done: int, total: int) -> None:
                if progress is not None:
                    rate = done / max(time.perf_counter() - started, 1e-9)
                    progress.update(bar, completed=done, total=total, rate=f"{rate:,.0f} cards/s")
                if done % 1000 == 0 or done == total:
                    logger.info("cards: %d/%d fetched", done, total)

            outcomes = fetch_cards(
                con,
                client,
                crawl_id,
                concurrency=options.card_concurrency,
                batch_size=options.card_batch_size,
                on_progress=on_progress,
            )
        logger.info("Cards fetched: %s", dict(outcomes) or "none needed")
        return dict(outcomes)
    finally:
        con.close()


@task(name="fetch-card-backlog", retries=2, **NETWORK_TASK_OPTIONS)
def fetch_card_backlog_task(raw_db: Path, client: HubClient, crawl_id: str, options: CrawlOptions) -> BacklogResult:
    """Fetch cards still owed from earlier crawls (errors, reconciled models), oldest first, bounded."""
    logger = get_run_logger()
    con = landing.connect(raw_db)
    try:
        result = fetch_card_backlog(
            con,
            client,
            crawl_id,
            limit=options.card_backlog_limit,
            concurrency=options.card_concurrency,
            include_private=options.include_private,
        )
    finally:
        con.close()
    if result.outcomes or result.remaining:
        logger.info("Card backlog: fetched %s; %d still owed", result.outcomes or "none", result.remaining)
    return result


def _fetch_cards_on_dask(raw_db: Path, client: HubClient, crawl_id: str, options: CrawlOptions) -> dict[str, int]:
    """The cards step on the Dask cluster at ``options.dask_address``, landed here batch by batch."""
    assert options.dask_address is not None
    con = landing.connect(raw_db)
    try:
        outcomes, _ = fetch_cards_on_dask(
            con,
            client,
            crawl_id,
            address=options.dask_address,
            concurrency=options.card_concurrency,
            batch_size=options.card_batch_size,
        )
    finally:
        con.close()
    return dict(outcomes)


def run_crawl(
    *,
    client: HubClient,
    data_dir: str | os.PathLike[str],
    mode: CrawlMode = "full",
    options: CrawlOptions | None = None,
    show_progress: bool | None = None,
    task_retries: int | None = None,
) -> CrawlSummary:
    """A whole crawl (listing, cards, then the card backlog), resuming an unfinished one. The body of ``crawl-hub``.

    Parameters
    ----------
    client
        The Hub to crawl (its endpoint, token and retry settings).
    data_dir
        The data directory whose ``raw.duckdb`` the crawl lands in.
    mode
        ``full`` (every model, newest ``createdAt`` first) or ``incremental`` (newest
        ``lastModified`` first, down to the previous watermark minus ``options.overlap``).
    options
        What to land besides the listing (:class:`~hubgenome.flows.options.CrawlOptions`; its
        defaults when None). Private repos are neither landed nor asked for cards unless
        ``options.include_private``; after this crawl's own cards, up to
        ``options.card_backlog_limit`` cards owed by earlier crawls are fetched
        (:func:`fetch_card_backlog`). With ``options.dask_address`` the cards are fetched by that
        Dask cluster's workers in batches of ``options.card_batch_size``
        (:func:`hubgenome.flows.scale_out.fetch_cards_on_dask`) and landed here.
    show_progress
        Progress bars on stderr; None: when stderr is a terminal and ``CI`` is unset.
    task_retries
        How often Prefect re-runs a failed listing or cards task (each re-run resumes from the
        checkpoint); None keeps each task's own. The client's per-request retries come first.

    Examples
    --------
    >>> trial = CrawlOptions(limit=100, cards=False)
    >>> summary = run_crawl(client=HubClient("http://127.0.0.1:8765"), data_dir="data", options=trial)  # doctest: +SKIP
    >>> summary.models_total  # doctest: +SKIP
    100
    """
    options = options or CrawlOptions()
    raw_db = paths(data_dir).raw_db
    show = progress_wanted() if show_progress is None else show_progress
    con = landing.connect(raw_db)
    try:
        run, resumed = open_crawl(con, client, mode=mode, overlap=options.overlap)
    finally:
        con.close()
    summary = CrawlSummary(crawl_id=run.crawl_id, mode=mode, endpoint=client.endpoint, resumed=resumed)
    listing_task, cards_task, backlog_task = crawl_listing_task, fetch_cards_task, fetch_card_backlog_task
    if task_retries is not None:
        listing_task = crawl_listing_task.with_options(retries=task_retries)
        cards_task = fetch_cards_task.with_options(retries=task_retries)
        backlog_task = fetch_card_backlog_task.with_options(retries=task_retries)
    listing = listing_task(raw_db, client, run.crawl_id, options, show)
    summary.pages, summary.models, summary.listing_seconds = listing.pages, listing.models, listing.seconds
    summary.skipped_private = listing.skipped_private
    if options.cards:
        started = time.perf_counter()
        if options.dask_address:
            summary.cards = _fetch_cards_on_dask(raw_db, client, run.crawl_id, options)
        else:
            summary.cards = cards_task(raw_db, client, run.crawl_id, options, show)
        if options.card_backlog_limit > 0:
            backlog = backlog_task(raw_db, client, run.crawl_id, options)
            summary.cards_backlog = backlog.outcomes
            summary.cards_backlog_remaining, summary.cards_backlog_sample = backlog.remaining, backlog.sample
        summary.cards_seconds = time.perf_counter() - started
    con = landing.connect(raw_db)
    try:
        landing.finish_run(con, run.crawl_id)
        summary.models_total = landing.get_run(con, run.crawl_id).models_landed
    finally:
        con.close()
    stats = client.stats
    summary.requests, summary.retries, summary.throttled_429 = stats.requests, stats.retries, stats.throttled_429
    summary.rate_limit_wait_seconds = round(stats.rate_limit_wait_seconds, 3)
    summary.pacing_wait_seconds = round(stats.pacing_wait_seconds, 3)
    return summary


@flow(name="crawl-hub", log_prints=True)
def crawl_flow(
    mode: CrawlMode = "full",
    endpoint: str | None = None,
    cards: bool = True,
    limit: int | None = None,
    data_dir: str | None = None,
    card_concurrency: int = 8,
    overlap_minutes: float = DEFAULT_OVERLAP.total_seconds() / 60,
    dask_address: str | None = None,
    include_private: bool = False,
    card_backlog_limit: int = DEFAULT_CARD_BACKLOG_LIMIT,
) -> dict:
    """Crawl Hugging Face Hub model metadata and cards into the raw landing (``<data dir>/raw.duckdb``).

    ``full`` pages through every model, newest first; ``incremental`` pages through the most
    recently modified models and stops at the previous successful crawl's watermark minus
    ``overlap_minutes``. Cards are fetched for new models and models whose ``sha`` changed.
    An interrupted crawl of the same mode and endpoint is resumed from its saved cursor.
    With ``dask_address`` (or ``HUBGENOME_DASK_ADDRESS``) the cards are fetched by that Dask
    cluster's workers and landed by this flow. Cards owed by earlier crawls (errors, reconciled
    models) are fetched afterwards, oldest first, at most ``card_backlog_limit``. Private repos are
    skipped unless ``include_private``.
    """
    # Scalar parameters, so a deployment can set them; one options object from here down.
    options = CrawlOptions(
        cards=cards,
        card_concurrency=card_concurrency,
        card_backlog_limit=card_backlog_limit,
        include_private=include_private,
        overlap=dt.timedelta(minutes=overlap_minutes),
        limit=limit,
        dask_address=resolve_dask_address(dask_address),
    )
    summary = run_crawl(
        client=HubClient(resolve_endpoint(endpoint)),
        data_dir=resolve_data_dir(data_dir),
        mode=mode,
        options=options,
    )
    print(
        f"Crawl {summary.crawl_id} ({summary.mode}{', resumed' if summary.resumed else ''}): "
        f"{summary.models:,} models on {summary.pages} pages in {summary.listing_seconds:.1f} s; "
        f"cards {summary.cards or 'skipped'}; {summary.models_total:,} models in this crawl"
    )
    return summary.as_dict()


__all__ = [
    "CrawlSummary",
    "HubCrawlError",
    "crawl_flow",
    "crawl_listing",
    "fetch_cards",
    "open_crawl",
    "run_crawl",
]

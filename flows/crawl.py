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
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import orjson
from hubgenome.flows import landing
from hubgenome.flows.hub_client import MIN_PAGE_LIMIT, HubClient, ListingPage, page_limit, with_page_limit
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from hubgenome.core.errors import ConfigurationError, HubCrawlError, HubRequestError, PageTooHeavyError
from hubgenome.core.paths import paths
from hubgenome.core.settings import CRAWL_EXPAND, resolve_dask_address, resolve_endpoint

CrawlMode = Literal["full", "incremental"]
SORT_BY_MODE: dict[str, str] = {"full": "createdAt", "incremental": "lastModified"}
DEFAULT_OVERLAP = dt.timedelta(hours=2)
CARD_BATCH_SIZE = 500
#: Timeouts in a row (504, or no answer in time) after which a listing page is asked for at half its size.
HEAVY_PAGE_TIMEOUTS = 2
#: Cards of earlier crawls still owed (errors, reconciled models) fetched per crawl, oldest first.
DEFAULT_CARD_BACKLOG_LIMIT = 20_000

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


class PagePrefetcher:
    """Fetches the next listing page in a background thread while the current one is landed.

    A page that keeps timing out (the Hub answers 504 to pages too heavy for it, every time) is
    asked for again at half its ``limit`` with the same cursor, down to :data:`MIN_PAGE_LIMIT`, and
    the crawl's checkpoint is moved to that smaller URL at once (here, in the landing thread), so
    a crawl resumed on another night does not start over with the page that cannot be built.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, client: HubClient, crawl_id: str) -> None:
        self._con = con
        self._client = client
        self._crawl_id = crawl_id
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
        self._pending: Future[ListingPage] | None = None
        self.pages_shrunk = 0

    def _get(self, url: str) -> ListingPage:
        limit = page_limit(url)
        shrinkable = limit is not None and limit > MIN_PAGE_LIMIT
        return self._client.get_page(url, timeouts_before_giving_up=HEAVY_PAGE_TIMEOUTS if shrinkable else None)

    def submit(self, url: str | None) -> None:
        self._pending = self._executor.submit(self._get, url) if url else None

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def result(self) -> ListingPage:
        """The page asked for last, shrinking it (and moving the checkpoint) while it times out."""
        assert self._pending is not None
        while True:
            try:
                return self._pending.result()
            except PageTooHeavyError as exc:
                limit = page_limit(exc.url) or MIN_PAGE_LIMIT
                smaller = with_page_limit(exc.url, max(MIN_PAGE_LIMIT, limit // 2))
                logger.warning("page kept timing out at limit=%d; asking for %s", limit, smaller)
                landing.save_checkpoint(self._con, self._crawl_id, smaller)
                self.pages_shrunk += 1
                self._pending = self._executor.submit(self._get, smaller)

    def __enter__(self) -> PagePrefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)


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
    on_progress: Callable[[int, int], None] | None = None,
    todo: list[tuple[str, str | None]] | None = None,
) -> Counter[str]:
    """Fetch the README of every model of the crawl whose card is unsettled for its current sha.

    ``todo`` names other (model id, sha) pairs to fetch instead (the card backlog); the outcomes
    are landed under ``crawl_id`` either way. Outcomes (``ok``, ``missing``, ``gated``, ``error``
    with the HTTP status) are landed in batches; a failure of one model never stops the others.
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
                if len(batch) >= CARD_BATCH_SIZE:
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


# -- terminal progress ---------------------------------------------------------------------------------


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    with progress:
        yield progress


def _show_progress() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


# -- Prefect -------------------------------------------------------------------------------------------


def _retry_unless_client_error(task, task_run, state) -> bool:
    """Retry network trouble, never our own mistakes: a configuration error or a 4xx answer."""
    try:
        state.result()
    except (ConfigurationError, HubRequestError):
        return False
    except Exception:
        return True
    return True


#: Options of every task that talks to the Hub: exponential backoff with jitter, no retry on 4xx,
#: no result caching (the landing is the state; a task re-run resumes from its checkpoint).
NETWORK_TASK_OPTIONS: dict = {
    "retry_delay_seconds": exponential_backoff(backoff_factor=10),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": _retry_unless_client_error,
    "cache_policy": NO_CACHE,
}


@task(name="crawl-listing", retries=3, **NETWORK_TASK_OPTIONS)
def crawl_listing_task(
    raw_db: Path,
    client: HubClient,
    crawl_id: str,
    limit: int | None,
    show_progress: bool,
    include_private: bool = False,
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
        with _progress(show_progress) as progress:
            bar = progress.add_task("listing", total=None, rate="") if progress else None
            started = time.perf_counter()

            def on_page(page_number: int, count: int, landed: int) -> None:
                logger.info("page %d: %d models landed (%d in this crawl)", page_number, count, landed)
                if progress is not None:
                    rate = (landed - run.models_landed) / max(time.perf_counter() - started, 1e-9)
                    progress.update(bar, completed=landed, rate=f"{rate:,.0f} models/s")

            result = crawl_listing(con, client, run, limit=limit, on_page=on_page, include_private=include_private)
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
    raw_db: Path, client: HubClient, crawl_id: str, concurrency: int, show_progress: bool
) -> dict[str, int]:
    """Fetch the cards of the crawl's new or changed models with bounded concurrency."""
    logger = get_run_logger()
    con = landing.connect(raw_db)
    try:
        with _progress(show_progress) as progress:
            bar = progress.add_task("cards", total=None, rate="") if progress else None
            started = time.perf_counter()

            def on_progress(done: int, total: int) -> None:
                if progress is not None:
                    rate = done / max(time.perf_counter() - started, 1e-9)
                    progress.update(bar, completed=done, total=total, rate=f"{rate:,.0f} cards/s")
                if done % 1000 == 0 or done == total:
                    logger.info("cards: %d/%d fetched", done, total)

            outcomes = fetch_cards(con, client, crawl_id, concurrency=concurrency, on_progress=on_progress)
        logger.info("Cards fetched: %s", dict(outcomes) or "none needed")
        return dict(outcomes)
    finally:
        con.close()


@task(name="fetch-card-backlog", retries=2, **NETWORK_TASK_OPTIONS)
def fetch_card_backlog_task(
    raw_db: Path, client: HubClient, crawl_id: str, limit: int, concurrency: int, include_private: bool
) -> BacklogResult:
    """Fetch cards still owed from earlier crawls (errors, reconciled models), oldest first, bounded."""
    logger = get_run_logger()
    con = landing.connect(raw_db)
    try:
        result = fetch_card_backlog(
            con, client, crawl_id, limit=limit, concurrency=concurrency, include_private=include_private
        )
    finally:
        con.close()
    if result.outcomes or result.remaining:
        logger.info("Card backlog: fetched %s; %d still owed", result.outcomes or "none", result.remaining)
    return result


def _fetch_cards_on_dask(
    raw_db: Path, client: HubClient, crawl_id: str, address: str, concurrency: int, batch_size: int | None
) -> dict[str, int]:
    """The cards step on the Dask cluster at ``address`` (imported lazily: the local path never needs Dask)."""
    from hubgenome.flows.scale_out import CARD_BATCH_SIZE, fetch_cards_on_dask

    con = landing.connect(raw_db)
    try:
        outcomes, _ = fetch_cards_on_dask(
            con, client, crawl_id, address=address, concurrency=concurrency, batch_size=batch_size or CARD_BATCH_SIZE
        )
    finally:
        con.close()
    return dict(outcomes)


def run_crawl(
    *,
    mode: CrawlMode = "full",
    endpoint: str | None = None,
    cards: bool = True,
    limit: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    card_concurrency: int = 8,
    overlap_minutes: float = DEFAULT_OVERLAP.total_seconds() / 60,
    token: str | bool | None = None,
    client: HubClient | None = None,
    show_progress: bool | None = None,
    task_retries: int | None = None,
    dask_address: str | None = None,
    card_batch_size: int | None = None,
    include_private: bool = False,
    card_backlog_limit: int = DEFAULT_CARD_BACKLOG_LIMIT,
) -> CrawlSummary:
    """A whole crawl (listing, cards, then the card backlog), resuming an unfinished one. The body of ``crawl-hub``.

    Private repos (listed only to a token that can see them) are neither landed nor asked for cards
    unless ``include_private``; then they are landed marked ``"private": true`` and the warehouse
    still leaves them out of every public mart. After this crawl's own cards, up to
    ``card_backlog_limit`` cards owed by earlier crawls are fetched (:func:`fetch_card_backlog`; 0
    turns that off).

    ``task_retries`` overrides how often Prefect re-runs a failed listing or cards task (each
    re-run resumes from the checkpoint); the client's own per-request retries come first.
    ``dask_address`` names a Dask scheduler: the cards are then fetched by its workers in batches
    of ``card_batch_size`` models (:func:`hubgenome.flows.scale_out.fetch_cards_on_dask`) and landed here;
    ``None`` (the default) fetches them with threads in this process.
    """
    raw_db = paths(data_dir).raw_db
    client = client or HubClient(resolve_endpoint(endpoint), token=token)
    show = _show_progress() if show_progress is None else show_progress
    con = landing.connect(raw_db)
    try:
        run, resumed = open_crawl(con, client, mode=mode, overlap=dt.timedelta(minutes=overlap_minutes))
    finally:
        con.close()
    summary = CrawlSummary(crawl_id=run.crawl_id, mode=mode, endpoint=client.endpoint, resumed=resumed)
    listing_task, cards_task = crawl_listing_task, fetch_cards_task
    if task_retries is not None:
        listing_task = crawl_listing_task.with_options(retries=task_retries)
        cards_task = fetch_cards_task.with_options(retries=task_retries)
    listing = listing_task(raw_db, client, run.crawl_id, limit, show, include_private)
    summary.pages, summary.models, summary.listing_seconds = listing.pages, listing.models, listing.seconds
    summary.skipped_private = listing.skipped_private
    if cards:
        started = time.perf_counter()
        if dask_address:
            summary.cards = _fetch_cards_on_dask(raw_db, client, run.crawl_id, dask_address, card_concurrency,
                                                 card_batch_size)  # fmt: skip
        else:
            summary.cards = cards_task(raw_db, client, run.crawl_id, card_concurrency, show)
        if card_backlog_limit > 0:
            backlog_task = fetch_card_backlog_task
            if task_retries is not None:
                backlog_task = fetch_card_backlog_task.with_options(retries=task_retries)
            backlog = backlog_task(raw_db, client, run.crawl_id, card_backlog_limit, card_concurrency, include_private)
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
    overlap_minutes: float = 120,
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
    summary = run_crawl(
        mode=mode,
        endpoint=endpoint,
        cards=cards,
        limit=limit,
        data_dir=data_dir,
        card_concurrency=card_concurrency,
        overlap_minutes=overlap_minutes,
        dask_address=resolve_dask_address(dask_address),
        include_private=include_private,
        card_backlog_limit=card_backlog_limit,
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

"""Fetching the next listing page while the current one lands, shared by the crawl and the sweeps.

Every whole-listing pass (a crawl, a counters or id sweep) pages through ``/api/models`` the same
way: one page in flight in a background thread while the landing thread writes the one before.
Heavy pages that the Hub cannot build in time are asked for again at half size here, once, for
all of them.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb

from hubgenome.core.errors import PageTooHeavyError
from hubgenome.flows import landing
from hubgenome.flows.hub_client import MIN_PAGE_LIMIT, HubClient, ListingPage, page_limit, with_page_limit

#: Timeouts in a row (504, or no answer in time) after which a listing page is asked for at half its size.
HEAVY_PAGE_TIMEOUTS = 2

logger = logging.getLogger(__name__)


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

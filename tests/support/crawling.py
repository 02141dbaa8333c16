"""Crawls from the tests: fast clients, one call for a whole crawl, and reading what a crawl landed."""

from __future__ import annotations

from pathlib import Path

import duckdb

from hubgenome.core.errors import HubCrawlError
from hubgenome.flows.crawl import CrawlSummary, run_crawl
from hubgenome.flows.hub_client import HubClient, ListingPage
from hubgenome.flows.options import DEFAULT_CARD_BACKLOG_LIMIT, CrawlOptions


class DiesAfterPages(HubClient):
    """A fast client whose listing dies after ``pages`` pages landed, as a killed crawl would."""

    def __init__(self, endpoint: str, pages: int) -> None:
        super().__init__(endpoint, backoff_base=0.01, backoff_cap=0.05)
        self.pages_left = pages

    def get_page(self, url: str, **options) -> ListingPage:
        if self.pages_left <= 0:
            msg = "connection lost"
            raise HubCrawlError(msg)
        page = super().get_page(url, **options)
        self.pages_left -= 1
        return page


def fast_client(endpoint: str, **options) -> HubClient:
    """A client whose backoff is milliseconds, so fault tests run fast."""
    options.setdefault("backoff_base", 0.01)
    options.setdefault("backoff_cap", 0.05)
    return HubClient(endpoint, **options)


def crawl(
    endpoint: str,
    data_dir: Path,
    *,
    mode: str = "full",
    cards: bool = True,
    limit: int | None = None,
    card_concurrency: int = 8,
    task_retries: int | None = None,
    include_private: bool = False,
    card_backlog_limit: int = DEFAULT_CARD_BACKLOG_LIMIT,
    **client_options,
) -> CrawlSummary:
    options = CrawlOptions(
        cards=cards,
        limit=limit,
        card_concurrency=card_concurrency,
        include_private=include_private,
        card_backlog_limit=card_backlog_limit,
    )
    return run_crawl(
        client=fast_client(endpoint, **client_options),
        data_dir=data_dir,
        mode=mode,
        options=options,
        show_progress=False,
        task_retries=task_retries,
    )


def landed_model_ids(data_dir: Path, crawl_id: str) -> list[str]:
    with duckdb.connect(str(data_dir / "raw.duckdb"), read_only=True) as con:
        return [
            row[0] for row in con.execute("select model_id from raw_models where crawl_id = ?", [crawl_id]).fetchall()
        ]


def landed_cards(data_dir: Path, crawl_id: str | None = None) -> dict[str, tuple[str, int | None, str | None]]:
    """model id → (status, HTTP status, text) of the newest fetch."""
    with duckdb.connect(str(data_dir / "raw.duckdb"), read_only=True) as con:
        rows = con.execute(
            """
            select model_id, status, http_status, card_text from raw_cards
            where ? is null or crawl_id = ?
            qualify row_number() over (partition by model_id order by fetched_at desc) = 1
            """,
            [crawl_id, crawl_id],
        ).fetchall()
    return {model_id: (status, http_status, text) for model_id, status, http_status, text in rows}


def crawl_runs(data_dir: Path) -> list[dict]:
    with duckdb.connect(str(data_dir / "raw.duckdb"), read_only=True) as con:
        cursor = con.execute("select * from crawl_runs order by started_at")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

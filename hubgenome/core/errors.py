"""The project's error types: one base class, specific subclasses, messages that say what to do."""

from __future__ import annotations


class HubgenomeError(Exception):
    """Base class of every error hubgenome raises on purpose (the CLI prints these without a traceback)."""


class HubCrawlError(HubgenomeError):
    """A crawl could not go on (the Hub kept failing, answered garbage, or the landing is unusable)."""


class RateLimitedError(HubCrawlError):
    """The Hub answered 429 more often than the crawler is willing to wait for."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PageTooHeavyError(HubCrawlError):
    """A listing page kept timing out (504 or no answer in time): the Hub could not build it at this size.

    The Hub answers 504 to pages whose size times expanded properties is too heavy for it; the
    same request fails the same way every time, so the crawler asks again with a smaller ``limit``.
    """

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class HubRequestError(HubCrawlError):
    """The Hub refused a listing request (4xx other than 429): retrying the same request will not help."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class MalformedResponseError(HubCrawlError):
    """The Hub answered 200 with a body that is not the JSON it promised (truncated, HTML, ...)."""


class CorpusFormatError(HubgenomeError):
    """A corpus folder does not follow the layout of ``shared/hubdata/README.md``."""


class LandingLockedError(HubgenomeError):
    """Another process holds the raw landing database open for writing."""


class ConfigurationError(HubgenomeError):
    """A setting or command-line option is invalid."""


class SnapshotFormatError(CorpusFormatError):
    """A snapshot data file (CSV or Parquet) is unreadable, or lacks the ``model_id`` column."""

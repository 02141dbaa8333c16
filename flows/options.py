"""The settings of a crawl, a warehouse build and a nightly run: one frozen object each.

A command-line option such as ``--card-concurrency`` used to travel as its own parameter through
the CLI, the flow, the run function and every stage, a dozen at a time. Here each group of related
settings is one object with documented defaults, built once where the settings enter (a CLI
command, a Prefect flow's parameters, a test) and passed down whole; a stage reads the fields it
needs. Frozen, so a stage cannot change what the next one sees: a variant is made with
:func:`dataclasses.replace`.

Examples
--------
>>> options = PipelineOptions(crawl=CrawlOptions(card_concurrency=4), id_sweep="always")
>>> options.crawl.card_concurrency, options.build.analytics
(4, True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

CrawlMode = Literal["full", "incremental"]
IdSweepPolicy = Literal["auto", "always", "never"]

#: How far before the previous watermark an incremental crawl starts reading again: a model
#: modified while the previous crawl was paging could otherwise fall between the two.
DEFAULT_OVERLAP = dt.timedelta(hours=2)
#: Cards of earlier crawls still owed (errors, reconciled models) fetched per crawl, oldest first.
DEFAULT_CARD_BACKLOG_LIMIT = 20_000
#: Cards landed in one transaction, and on a Dask cluster the models of one ``fetch-card-batch``
#: task (landed as that task completes): a killed crawl loses at most one batch of fetched cards,
#: and a task's overhead (a few calls to the Prefect API) stays small next to its downloads.
CARD_BATCH_SIZE = 500


@dataclass(frozen=True)
class CrawlOptions:
    """What a crawl lands besides the listing, and how hard it works at it.

    Attributes
    ----------
    cards
        Fetch the README of every new or changed model (``--cards/--no-cards``).
    card_concurrency
        Card downloads in flight at once (threads here, or per Dask worker).
    card_backlog_limit
        Cards owed by earlier crawls fetched after this crawl's own, oldest first; 0 turns it off.
    card_batch_size
        Cards landed per transaction (on Dask: fetched by one task), :data:`CARD_BATCH_SIZE`.
    include_private
        Also land private repos the token can see (marked ``"private": true``; never in the
        public marts). Off: they are skipped.
    overlap
        How much an incremental crawl re-reads before the previous watermark.
    limit
        Stop the listing after this many models (for trying things out); None: the whole Hub.
    dask_address
        A Dask scheduler whose workers fetch the cards; None fetches them with threads here.
    """

    cards: bool = True
    card_concurrency: int = 8
    card_backlog_limit: int = DEFAULT_CARD_BACKLOG_LIMIT
    card_batch_size: int = CARD_BATCH_SIZE
    include_private: bool = False
    overlap: dt.timedelta = DEFAULT_OVERLAP
    limit: int | None = None
    dask_address: str | None = None

    def __post_init__(self) -> None:
        if self.card_batch_size < 1:
            msg = f"card_batch_size must be at least 1, not {self.card_batch_size}."
            raise ValueError(msg)


@dataclass(frozen=True)
class BuildOptions:
    """How the warehouse is built before it is published.

    Attributes
    ----------
    analytics
        Compute the ``analytics`` schema into the build file before the publish (a failure then
        publishes nothing). Off (``--no-analytics``): the warehouse is published with the dbt
        models alone, which the tests use to keep nights short.
    dask_address
        A Dask scheduler whose workers score the similarity samples; None scores them here.
    full_refresh
        Rebuild the warehouse from the whole landing (``--full-refresh``). Off: the build starts
        from a copy of the published warehouse and processes the landing rows added since, unless
        that warehouse cannot be the starting point (see :mod:`hubgenome.flows.build_state`).
    """

    analytics: bool = True
    dask_address: str | None = None
    full_refresh: bool = False


@dataclass(frozen=True)
class PipelineOptions:
    """One nightly run's stages and their settings (see :mod:`hubgenome.flows.pipeline`).

    Attributes
    ----------
    crawl
        The incremental crawl's settings; reconciliation uses its ``cards``,
        ``card_concurrency`` and ``include_private`` too.
    build
        The build's settings, or None to stop after reconciliation (no build, no audit).
    id_sweep
        ``auto``: when none succeeded within ``id_sweep_every``; ``always``; ``never``.
    id_sweep_every
        How often ``auto`` runs the id sweep (weekly by default).
    counters
        Run the counters sweep (skipped anyway after a full crawl, which listed every counter).
    alert_webhook
        Where failure and incompleteness alerts go; None: ``HUBGENOME_ALERT_WEBHOOK`` if set.
    """

    crawl: CrawlOptions = field(default_factory=CrawlOptions)
    build: BuildOptions | None = field(default_factory=BuildOptions)
    id_sweep: IdSweepPolicy = "auto"
    id_sweep_every: dt.timedelta = dt.timedelta(days=7)
    counters: bool = True
    alert_webhook: str | None = None

    def __post_init__(self) -> None:
        if self.id_sweep not in ("auto", "always", "never"):
            msg = f"Unknown id sweep policy {self.id_sweep!r}: use auto, always or never."
            raise ValueError(msg)


__all__ = [
    "CARD_BATCH_SIZE",
    "DEFAULT_CARD_BACKLOG_LIMIT",
    "DEFAULT_OVERLAP",
    "BuildOptions",
    "CrawlMode",
    "CrawlOptions",
    "IdSweepPolicy",
    "PipelineOptions",
]

"""Scale-out on a Dask cluster: the heavy work as Prefect tasks on ``prefect-dask``'s task runner.

Used only when a scheduler is named (``--dask ADDRESS`` / ``HUBGENOME_DASK_ADDRESS``); without one
every flow takes its local code path and Dask itself (``prefect_dask``, ``distributed``) is never
imported: this module imports it only inside the functions that need it.

* **Card fetching**: the models whose card is needed are split into batches of ids
  (:data:`hubgenome.flows.options.CARD_BATCH_SIZE` by default); each batch is a
  ``fetch-card-batch`` task that a worker runs with its own copy of the :class:`HubClient` (same
  endpoint, token and settings, fresh pacing) and that returns the fetched cards. The landing stays
  in the flow's process (DuckDB has one writer): batches are landed there as they complete, so a
  killed run keeps what it landed and the next run fetches only what is still unsettled.
* **Similarity scoring** (the card and metadata genomes): :func:`map_tasks` runs the scoring jobs
  of :func:`hubgenome.analytics.similarity.similarity_table` as ``score-similarity-partition`` tasks (see
  :mod:`hubgenome.flows.analytics_stage`); results come back in job order, so the tables are identical to the
  local path's.

Workers need this repository installed, network access to the Hub (for cards) and the Prefect API
(``PREFECT_API_URL``) that the flow reports to. Rate limits are per token: more workers do not buy
more quota; each worker paces itself from the Hub's headers and waits on 429 as told.
"""

from __future__ import annotations

import copy
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

import duckdb
from prefect import get_run_logger, task
from prefect.context import FlowRunContext
from prefect.flows import Flow
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import TaskRunner
from prefect.tasks import Task

from hubgenome.flows import landing
from hubgenome.flows.hub_client import ClientStats, HubClient
from hubgenome.flows.options import CARD_BATCH_SIZE
from hubgenome.flows.task_options import NETWORK_TASK_OPTIONS

logger = logging.getLogger("hubgenome.scale_out")


@contextmanager
def dask_task_runner(address: str) -> Iterator[TaskRunner]:
    """A started ``DaskTaskRunner`` connected to the scheduler at ``address``.

    Inside a flow run whose task runner is already a ``DaskTaskRunner`` on that scheduler (the CLI's
    ``--dask``), that runner is reused; otherwise a connection is opened for the block and closed
    after it.
    """
    from prefect_dask import DaskTaskRunner

    context = FlowRunContext.get()
    current = context.task_runner if context is not None else None
    if isinstance(current, DaskTaskRunner) and current.address == address and current._started:
        yield current
        return
    with DaskTaskRunner(address=address) as runner:
        yield runner


def on_dask(flow_: Flow, address: str | None) -> Flow:
    """``flow_`` running with a ``DaskTaskRunner`` on ``address``; ``flow_`` itself when no address is given."""
    if not address:
        return flow_
    from prefect_dask import DaskTaskRunner

    return flow_.with_options(task_runner=DaskTaskRunner(address=address))


def map_tasks(runner: TaskRunner, task_: Task, parameter_sets: Sequence[dict[str, Any]]) -> list[Any]:
    """Submit ``task_`` once per parameter set and return the results in submission order.

    The first failure (after the task's own retries) is raised once every task has finished, so no
    task is left running behind the caller.
    """
    futures = [runner.submit(task_, parameters=parameters) for parameters in parameter_sets]
    for future in futures:
        future.wait()
    return [future.result() for future in futures]


def worker_name() -> str:
    """Where a task runs: the Dask worker's address, else host and process id."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


# -- card fetching ---------------------------------------------------------------------------------


@dataclass
class CardBatch:
    """What one ``fetch-card-batch`` task returns: the fetches, in the batch's order, and the client's stats."""

    batch_number: int
    fetches: list[landing.CardFetch]
    stats: ClientStats
    worker: str
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)


def fetch_card_batch(client: HubClient, todo: Sequence[tuple[str, str | None]], *, concurrency: int = 8) -> list:
    """Fetch the README of each (model id, sha) with ``concurrency`` threads; fetches in ``todo`` order.

    ``HubClient.fetch_card`` never raises for a per-model failure, so one batch yields one outcome
    per model.
    """
    if not todo:
        return []
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="cards") as pool:
        return list(pool.map(lambda item: client.fetch_card(*item), todo))


@task(name="fetch-card-batch", retries=2, **NETWORK_TASK_OPTIONS)
def fetch_card_batch_task(
    client: HubClient, batch_number: int, todo: list[tuple[str, str | None]], concurrency: int
) -> CardBatch:
    """Fetch one batch of cards on a Dask worker and return them (the flow's process lands them)."""
    started = time.perf_counter()
    client = copy.copy(client)  # its own pacing and zeroed stats, even where the worker shares our memory
    fetches = fetch_card_batch(client, todo, concurrency=concurrency)
    batch = CardBatch(
        batch_number=batch_number,
        fetches=fetches,
        stats=client.stats,
        worker=worker_name(),
        seconds=time.perf_counter() - started,
        outcomes=dict(Counter(fetch.status for fetch in fetches)),
    )
    get_run_logger().info(
        "card batch %d: %d cards on %s in %.1f s: %s", batch_number, len(fetches), batch.worker, batch.seconds,
        batch.outcomes,
    )  # fmt: skip
    return batch


def add_client_stats(total: ClientStats, part: ClientStats) -> None:
    """Add a worker's client stats to the flow's (counts and waits summed, statuses merged)."""
    for item in fields(ClientStats):
        if item.name == "by_status":
            for status, count in part.by_status.items():
                total.by_status[status] = total.by_status.get(status, 0) + count
        else:
            setattr(total, item.name, getattr(total, item.name) + getattr(part, item.name))


def fetch_cards_on_dask(
    con: duckdb.DuckDBPyConnection,
    client: HubClient,
    crawl_id: str,
    *,
    address: str,
    concurrency: int = 8,
    batch_size: int = CARD_BATCH_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[Counter[str], list[str]]:
    """:func:`hubgenome.flows.crawl.fetch_cards` with the downloads on the Dask cluster at ``address``.

    The same models are fetched (those of the crawl whose card is unsettled for their sha) and the
    same outcomes landed; batches are landed here as they complete. The workers' request counts,
    retries and rate-limit waits are added to ``client.stats``.

    Returns
    -------
    (Counter, list[str])
        The count of each outcome, and the worker that ran each batch (in batch order).
    """
    if batch_size < 1:
        msg = f"batch_size must be at least 1, not {batch_size}."
        raise ValueError(msg)
    todo = landing.models_needing_cards(con, crawl_id)
    outcomes: Counter[str] = Counter()
    if not todo:
        return outcomes, []
    batches = [todo[start : start + batch_size] for start in range(0, len(todo), batch_size)]
    workers: list[str] = [""] * len(batches)
    done = 0
    with dask_task_runner(address) as runner:
        futures: list[PrefectFuture] = [
            runner.submit(
                fetch_card_batch_task,
                parameters={"client": client, "batch_number": number, "todo": batch, "concurrency": concurrency},
            )
            for number, batch in enumerate(batches)
        ]
        try:
            for future in as_completed(futures):
                batch = future.result()
                landing.land_cards(con, crawl_id, batch.fetches)
                outcomes.update(batch.outcomes)
                add_client_stats(client.stats, batch.stats)
                workers[batch.batch_number] = batch.worker
                done += len(batch.fetches)
                if on_progress is not None:
                    on_progress(done, len(todo))
        except BaseException:
            # landed batches stay landed (the next run fetches only what is still unsettled)
            for future in futures:
                future.wrapped_future.cancel()
            raise
    logger.info("cards on %s: %d batches, %s", address, len(batches), dict(outcomes))
    return outcomes, workers


__all__ = [
    "CardBatch",
    "dask_task_runner",
    "fetch_card_batch",
    "fetch_card_batch_task",
    "fetch_cards_on_dask",
    "map_tasks",
    "on_dask",
]

"""The nightly pipeline: one unattended run that keeps the warehouse fresh and its history growing.

Stages, in order (each one a plain function over the landing, run through Prefect tasks with
retries; crawls and sweeps resume from their checkpoints by themselves):

1. ``crawl``     incremental crawl (a full one when the landing has no successful crawl yet, and
                 the summary says so), including the cards of new and changed models and, after
                 them, the card backlog (cards owed by earlier crawls, oldest first, bounded);
2. ``counters``  the counters sweep (downloads, likes, trending score of every model);
3. ``id_sweep``  the id sweep, when due (weekly by default; ``id_sweep="always"|"never"`` overrides);
4. ``reconcile`` lands what the newest id sweep saw and the landing lacks or holds stale (private
                 repos made public, renames, gating and disabled flips: changes that move no
                 ``lastModified``), with their cards (:mod:`hubgenome.flows.reconcile`);
5. ``build``     dbt build + tests + the analytics step into a new file, published atomically only
                 when everything passed (:func:`hubgenome.flows.build.build_and_publish`, as
                 ``hubgenome build`` does): incremental from a copy of the published warehouse, or
                 a full refresh, which the stage detail and ``build_mode`` say, with the reason;
6. ``audit``     compares the landing and the new warehouse with the newest id sweep
                 (:mod:`hubgenome.flows.audit`): missing, stale, extra and private models go into the run's
                 row, and an alert goes out when a public model is missing.

A bookkeeping row in the landing's ``pipeline_runs`` follows the run (stages, durations, counts of
new/changed/deleted models, cards by status, dbt test results, rate-limit waits); the warehouse
shows it as ``fct_pipeline_runs`` (the run's own row as of just before its build; its final state
appears with the next build). A failed stage stops the run: the published warehouse keeps serving,
the row says which stage failed and why, an alert goes to ``HUBGENOME_ALERT_WEBHOOK`` when set, and
:class:`PipelineFailedError` carries the reason (the CLI exits 1). The next run picks up where this
one stopped.

Only one run at a time per data directory: a run holds an exclusive ``flock`` on
``<data dir>/pipeline.lock`` (which also records its PID). A run that finds the lock held exits
cleanly (state ``skipped``, CLI exit code 0) saying which PID holds it; a lock file left by a dead
process is simply taken over (the kernel drops a dead process's ``flock``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from hubgenome.core.errors import HubgenomeError
from hubgenome.core.paths import paths, resolve_data_dir
from hubgenome.core.settings import resolve_dask_address, resolve_endpoint
from hubgenome.flows import landing
from hubgenome.flows.alerts import alert_failure, alert_incomplete
from hubgenome.flows.audit import run_audit
from hubgenome.flows.build import build_and_publish
from hubgenome.flows.crawl import run_crawl
from hubgenome.flows.hub_client import HubClient
from hubgenome.flows.options import (
    DEFAULT_CARD_BACKLOG_LIMIT,
    DEFAULT_OVERLAP,
    BuildOptions,
    CrawlOptions,
    PipelineOptions,
)
from hubgenome.flows.reconcile import run_reconcile
from hubgenome.flows.sweeps import id_sweep_due, run_sweep

logger = logging.getLogger("hubgenome.pipeline")

STAGES: tuple[str, ...] = ("crawl", "counters", "id_sweep", "reconcile", "build", "audit")
LOCK_FILE_NAME = "pipeline.lock"
#: Exit code of ``hubgenome pipeline`` when another run holds the lock: a clean exit, on purpose.
EXIT_ALREADY_RUNNING = 0


class PipelineFailedError(HubgenomeError):
    """A stage of the nightly pipeline failed; the published warehouse was left serving."""

    def __init__(self, message: str, summary: PipelineSummary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass
class StageOutcome:
    """One stage of one run."""

    stage: str
    state: str  # succeeded | failed | skipped
    seconds: float = 0.0
    detail: str = ""


@dataclass
class PipelineSummary:
    """What one pipeline run did; :meth:`row` is its ``pipeline_runs`` row."""

    pipeline_run_id: str
    endpoint: str
    started_at: dt.datetime
    state: str = "running"  # running | succeeded | failed | skipped
    finished_at: dt.datetime | None = None
    failed_stage: str | None = None
    error: str | None = None
    message: str = ""
    crawl_id: str | None = None
    crawl_mode: str | None = None
    crawl_resumed: bool | None = None
    counters_crawl_id: str | None = None
    id_sweep_crawl_id: str | None = None
    models_listed: int = 0
    models_new: int = 0
    models_changed: int = 0
    models_deleted: int = 0
    counters_landed: int = 0
    ids_landed: int = 0
    models_reconciled: int = 0
    models_skipped_private: int = 0
    cards: dict[str, int] = field(default_factory=dict)
    cards_backlog_fetched: int = 0
    cards_backlog_remaining: int = 0
    cards_backlog_sample: list[str] = field(default_factory=list)
    audit_missing: int | None = None
    audit_stale: int | None = None
    audit_extra: int | None = None
    audit_private: int | None = None
    audit_sample: list[str] = field(default_factory=list)
    dbt_models_built: int | None = None
    dbt_tests_passed: int | None = None
    dbt_tests_failed: int | None = None
    #: ``incremental`` or ``full_refresh``, and why (in the summary and the build stage's detail;
    #: not ``pipeline_runs`` columns).
    build_mode: str | None = None
    build_mode_reason: str | None = None
    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    rate_limit_wait_seconds: float = 0.0
    pacing_wait_seconds: float = 0.0
    stages: list[StageOutcome] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        end = self.finished_at or landing.utcnow()
        return (end - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["seconds"] = round(self.seconds, 3)
        return values

    def row(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in landing.PIPELINE_RUN_COLUMNS if hasattr(self, name)}
        for status in landing.CARD_STATUSES:
            values[f"cards_{status}"] = self.cards.get(status, 0)
        values["stages"] = json.dumps([asdict(stage) for stage in self.stages])
        return values


# -- the overlap guard -------------------------------------------------------------------------------


class PipelineLock:
    """An exclusive, non-blocking ``flock`` on ``<data dir>/pipeline.lock`` holding the owner's PID.

    ``acquire()`` returns False when another run holds it (``holder_pid`` then says which);
    ``taken_over_pid`` is set when the file named a process that is gone (a stale lock).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.holder_pid: int | None = None
        self.taken_over_pid: int | None = None
        self._fd: int | None = None

    def _read_pid(self, fd: int) -> int | None:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode(errors="replace").strip()
        return int(text) if text.isdigit() else None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.holder_pid = self._read_pid(fd)
            os.close(fd)
            return False
        previous = self._read_pid(fd)
        if previous is not None and previous != os.getpid():
            self.taken_over_pid = previous
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        # The file stays (removing it would let a late opener lock an orphaned inode); empty = free.
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> PipelineLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- stages ----------------------------------------------------------------------------------------


def _record(raw_db: Path, summary: PipelineSummary) -> None:
    con = landing.connect(raw_db)
    try:
        landing.record_pipeline_run(con, summary.row())
    finally:
        con.close()


def _abandon_stale_runs(raw_db: Path) -> int:
    """Mark rows of runs that were killed (still ``running`` while we hold the lock) as ``abandoned``."""
    con = landing.connect(raw_db)
    try:
        stale = con.execute("select count(*) from pipeline_runs where state = 'running'").fetchone()[0]
        if stale:
            con.execute(
                """
                update pipeline_runs
                set state = 'abandoned', finished_at = coalesce(finished_at, ?),
                    error = coalesce(error, 'the run was killed before it finished')
                where state = 'running'
                """,
                [landing.utcnow()],
            )
        return int(stale)
    finally:
        con.close()


def _dbt_test_counts(run_results: Path) -> tuple[int, int]:
    """(passed, failed) dbt tests in a ``run_results.json`` (warnings count as passed)."""
    if not run_results.exists():
        return 0, 0
    results = json.loads(run_results.read_text())["results"]
    tests = [item["status"] for item in results if item["unique_id"].startswith("test.")]
    passed = sum(status in ("pass", "warn", "success") for status in tests)
    return passed, len(tests) - passed


@task(name="build-warehouse", retries=0, cache_policy=NO_CACHE)
def build_stage_task(data_dir: Path, options: BuildOptions) -> dict[str, Any]:
    """dbt build + tests + analytics into a new file, published atomically when all passed."""
    result = build_and_publish(data_dir, options)
    return {
        "models_built": result.models_built,
        "seconds": result.elapsed_seconds,
        "build_mode": result.build_mode,
        "mode_reason": result.mode_reason,
        "mode_summary": result.mode_summary,
    }


def choose_crawl_mode(raw_db: Path, endpoint: str) -> tuple[str, str]:
    """``incremental`` when a successful crawl gave a watermark, else ``full``; with the reason."""
    con = landing.connect(raw_db)
    try:
        watermark = landing.last_watermark(con, endpoint)
    finally:
        con.close()
    if watermark is None:
        return "full", f"no previous successful crawl of {endpoint}: falling back to a full crawl"
    return "incremental", f"incremental from watermark {watermark.isoformat()}"


def run_pipeline(
    *,
    client: HubClient,
    data_dir: str | os.PathLike[str],
    options: PipelineOptions | None = None,
    show_progress: bool | None = None,
    task_retries: int | None = None,
) -> PipelineSummary:
    """One nightly run: crawl → counters sweep → id sweep (when due) → reconcile → build → audit → run summary.

    Parameters
    ----------
    client
        The Hub the night crawls (its endpoint, token and retry settings).
    data_dir
        The data directory: its landing, warehouse and ``pipeline.lock``.
    options
        The stages' settings (:class:`~hubgenome.flows.options.PipelineOptions`; its defaults when
        None). With a ``dask_address`` in ``options.crawl`` / ``options.build`` that Dask
        cluster's workers fetch the cards / score the similarity samples.
    show_progress, task_retries
        As for :func:`hubgenome.flows.crawl.run_crawl`, for every stage.

    Returns the summary (state ``succeeded``, or ``skipped`` when another run holds the lock).

    Raises
    ------
    PipelineFailedError
        When a stage failed, after recording the run and sending the alert; the message names the
        stage and the reason. The published warehouse is untouched; the next run resumes.

    Examples
    --------
    >>> night = PipelineOptions(id_sweep="always")
    >>> hub = HubClient("http://127.0.0.1:8765")
    >>> summary = run_pipeline(client=hub, data_dir="data", options=night)  # doctest: +SKIP
    >>> summary.state, summary.models_new  # doctest: +SKIP
    ('succeeded', 30)
    """
    options = options or PipelineOptions()
    data_paths = paths(data_dir)
    raw_db = data_paths.raw_db
    summary = PipelineSummary(
        pipeline_run_id=f"{landing.utcnow():%Y%m%dT%H%M%SZ}-pipeline-{uuid.uuid4().hex[:6]}",
        endpoint=client.endpoint,
        started_at=landing.utcnow(),
    )
    lock = PipelineLock(data_paths.data_dir / LOCK_FILE_NAME)
    if not lock.acquire():
        summary.state = "skipped"
        summary.finished_at = landing.utcnow()
        summary.message = (
            f"Another pipeline run is in progress (pid {lock.holder_pid or 'unknown'}, lock "
            f"{lock.path}); this run did nothing. It exits cleanly; the next scheduled run goes ahead."
        )
        logger.warning(summary.message)
        return summary
    with lock:
        if lock.taken_over_pid is not None:
            logger.warning("took over a stale pipeline lock of pid %d (no longer running)", lock.taken_over_pid)
        abandoned = _abandon_stale_runs(raw_db)
        if abandoned:
            logger.warning("%d earlier run(s) had been killed mid-way; marked abandoned, resuming", abandoned)
        _record(raw_db, summary)
        _run_stages(
            summary,
            raw_db=raw_db,
            data_dir=data_paths.data_dir,
            client=client,
            options=options,
            show_progress=show_progress,
            task_retries=task_retries,
        )
    return summary


def _take_client_stats(summary: PipelineSummary, client: HubClient) -> None:
    stats = client.stats
    summary.requests, summary.retries, summary.throttled_429 = stats.requests, stats.retries, stats.throttled_429
    summary.rate_limit_wait_seconds = round(stats.rate_limit_wait_seconds, 3)
    summary.pacing_wait_seconds = round(stats.pacing_wait_seconds, 3)


def _run_stages(
    summary: PipelineSummary,
    *,
    raw_db: Path,
    data_dir: Path,
    client: HubClient,
    options: PipelineOptions,
    show_progress: bool | None,
    task_retries: int | None,
) -> None:
    alert_webhook = options.alert_webhook

    def run_stage(name: str, body: Callable[[], str]) -> None:
        started = time.perf_counter()
        logger.info("stage %s: starting", name)
        try:
            detail = body()
        except BaseException as exc:
            seconds = time.perf_counter() - started
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            summary.stages.append(StageOutcome(name, "failed", round(seconds, 3), reason[:2000]))
            summary.state, summary.failed_stage, summary.error = "failed", name, reason[:2000]
            summary.finished_at = landing.utcnow()
            _take_client_stats(summary, client)
            with contextlib.suppress(Exception):
                _record(raw_db, summary)
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt / SystemExit: recorded, not alerted, not wrapped
            alert_failure(summary.as_dict(), url=alert_webhook)
            msg = (
                f"The nightly pipeline failed at stage {name!r}: {reason}. The last published warehouse "
                "is still serving; the next run resumes where this one stopped."
            )
            raise PipelineFailedError(msg, summary) from exc
        seconds = time.perf_counter() - started
        summary.stages.append(
            StageOutcome(name, "skipped" if detail.startswith("skipped") else "succeeded", round(seconds, 3), detail)
        )
        logger.info("stage %s: %s in %.1f s", name, detail, seconds)
        _take_client_stats(summary, client)
        _record(raw_db, summary)

    def crawl_stage() -> str:
        mode, why = choose_crawl_mode(raw_db, client.endpoint)
        summary.crawl_mode = mode
        result = run_crawl(
            client=client,
            data_dir=data_dir,
            mode=mode,  # type: ignore[arg-type]
            options=options.crawl,
            show_progress=show_progress,
            task_retries=task_retries,
        )
        summary.crawl_id, summary.crawl_resumed = result.crawl_id, result.resumed
        summary.cards = dict(Counter(result.cards) + Counter(result.cards_backlog))
        summary.cards_backlog_fetched = sum(result.cards_backlog.values())
        summary.cards_backlog_remaining = result.cards_backlog_remaining
        summary.cards_backlog_sample = result.cards_backlog_sample
        summary.models_skipped_private = result.skipped_private
        summary.models_listed = result.models_total
        con = landing.connect(raw_db)
        try:
            summary.models_new, summary.models_changed = landing.model_changes(con, result.crawl_id)
        finally:
            con.close()
        backlog = (
            f"; card backlog: fetched {result.cards_backlog or 'none'}, {result.cards_backlog_remaining:,} still owed"
            + (f" (oldest: {', '.join(result.cards_backlog_sample[:5])})" if result.cards_backlog_remaining else "")
        )
        return (
            f"{why}; {result.models_total:,} models listed ({summary.models_new:,} new, "
            f"{summary.models_changed:,} changed){', resumed' if result.resumed else ''}; "
            f"cards {result.cards or 'none'}{backlog}"
            + (f"; {result.skipped_private:,} private repos skipped" if result.skipped_private else "")
        )

    def counters_stage() -> str:
        if not options.counters:
            return "skipped: counters sweep turned off"
        if summary.crawl_mode == "full" and not summary.crawl_resumed:
            return "skipped: tonight's full crawl listed every model's counters"
        result = run_sweep("counters", client=client, data_dir=data_dir, task_retries=task_retries)
        summary.counters_crawl_id, summary.counters_landed = result.crawl_id, result.models_total
        return f"{result.models_total:,} models' counters{' (resumed)' if result.resumed else ''}"

    def id_sweep_stage() -> str:
        if options.id_sweep == "never":
            return "skipped: id sweep turned off (--id-sweep never)"
        if options.id_sweep == "auto":
            con = landing.connect(raw_db)
            try:
                due = id_sweep_due(con, client.endpoint, every=options.id_sweep_every)
            finally:
                con.close()
            if not due:
                return f"skipped: not due (one succeeded within {options.id_sweep_every.days} days)"
        result = run_sweep("ids", client=client, data_dir=data_dir, task_retries=task_retries)
        summary.id_sweep_crawl_id, summary.ids_landed = result.crawl_id, result.models_total
        summary.models_deleted = result.disappeared
        return f"{result.models_total:,} ids listed, {result.disappeared:,} models disappeared"

    def reconcile_stage() -> str:
        result = run_reconcile(client=client, data_dir=data_dir, options=options.crawl, task_retries=task_retries)
        if result.crawl_id is None:
            return "skipped: the newest id sweep is reconciled already"
        summary.models_reconciled = result.landed
        summary.cards = dict(Counter(summary.cards) + Counter(result.cards))
        summary.models_skipped_private += result.skipped_private
        return (
            f"sweep {result.sweep_crawl_id}: {result.candidates or 'nothing'} to reconcile; {result.landed:,} landed, "
            f"{result.gone:,} gone since the sweep, cards {result.cards or 'none'}"
        )

    def audit_stage() -> str:
        if options.build is None:
            return "skipped: build turned off"
        con = landing.connect(raw_db, read_only=True)
        try:
            swept = landing.last_succeeded_run(con, mode="ids", endpoint=client.endpoint)
        finally:
            con.close()
        if swept is None:
            return "skipped: no completed id sweep to audit against yet"
        report = run_audit(client=client, data_dir=data_dir)
        for name, value in report.figures().items():
            setattr(summary, name, value)
        summary.audit_sample = report.missing_public.sample
        # The backlog as the night ends (reconciliation may have added to it or paid some of it).
        summary.cards_backlog_remaining = report.card_backlog
        summary.cards_backlog_sample = report.card_backlog_sample
        detail = (
            f"against sweep {report.sweep_crawl_id} ({report.public_models:,} public models): "
            f"{report.missing:,} missing, {report.stale:,} stale, {report.extra_in_warehouse.count:,} extra, "
            f"{report.private_in_warehouse.count:,} private in the warehouse; {report.card_backlog:,} cards owed"
        )
        if not report.ok:
            logger.error("audit: %s (missing: %s)", detail, ", ".join(report.missing_public.sample))
            alert_incomplete(summary.as_dict(), report.as_dict(), url=alert_webhook)
        return detail

    def build_stage() -> str:
        if options.build is None:
            return "skipped: build turned off"
        run_results = data_dir / "dbt" / "target" / "run_results.json"
        try:
            outcome = build_stage_task(data_dir, options.build)
        finally:
            summary.dbt_tests_passed, summary.dbt_tests_failed = _dbt_test_counts(run_results)
        summary.dbt_models_built = outcome["models_built"]
        summary.build_mode, summary.build_mode_reason = outcome["build_mode"], outcome["mode_reason"]
        return (
            f"{outcome['mode_summary']}; published: {outcome['models_built']} models, "
            f"{summary.dbt_tests_passed} tests passed"
            f"{', analytics' if options.build.analytics else ', no analytics step (turned off)'}"
        )

    run_stage("crawl", crawl_stage)
    run_stage("counters", counters_stage)
    run_stage("id_sweep", id_sweep_stage)
    run_stage("reconcile", reconcile_stage)
    # The row is in the landing before the build reads it, so the warehouse shows this run so far.
    run_stage("build", build_stage)
    run_stage("audit", audit_stage)
    summary.state = "succeeded"
    summary.finished_at = landing.utcnow()
    _record(raw_db, summary)
    logger.info(
        "pipeline %s succeeded in %.1f s: %d new, %d changed, %d deleted",
        summary.pipeline_run_id,
        summary.seconds,
        summary.models_new,
        summary.models_changed,
        summary.models_deleted,
    )


@flow(name="nightly-pipeline", log_prints=True)
def pipeline_flow(
    endpoint: str | None = None,
    data_dir: str | None = None,
    id_sweep: str = "auto",
    counters: bool = True,
    cards: bool = True,
    card_concurrency: int = 8,
    analytics: bool = True,
    overlap_minutes: float = DEFAULT_OVERLAP.total_seconds() / 60,
    dask_address: str | None = None,
    include_private: bool = False,
    card_backlog_limit: int = DEFAULT_CARD_BACKLOG_LIMIT,
    full_refresh: bool = False,
) -> dict:
    """Nightly run: incremental crawl with cards and card backlog → counters sweep → weekly id sweep →
    reconciliation → dbt build → audit → run summary.

    Keeps the warehouse fresh and its history growing (counter time series, dated disappearances).
    A failed stage fails the flow run with a readable reason, leaves the published warehouse serving
    and is picked up by the next run; a run that finds another one in progress does nothing.
    With ``dask_address`` (or ``HUBGENOME_DASK_ADDRESS``) cards and similarity scoring run on that
    Dask cluster's workers. The build is incremental (from a copy of the published warehouse) unless
    ``full_refresh`` or the warehouse itself calls for a rebuild from the whole landing.
    """
    # Scalar parameters, so a deployment (prefect.yaml, `hubgenome schedule`) can set them; one
    # options object from here down.
    address = resolve_dask_address(dask_address)
    options = PipelineOptions(
        crawl=CrawlOptions(
            cards=cards,
            card_concurrency=card_concurrency,
            card_backlog_limit=card_backlog_limit,
            include_private=include_private,
            overlap=dt.timedelta(minutes=overlap_minutes),
            dask_address=address,
        ),
        build=BuildOptions(analytics=analytics, dask_address=address, full_refresh=full_refresh),
        id_sweep=id_sweep,  # type: ignore[arg-type]
        counters=counters,
    )
    summary = run_pipeline(
        client=HubClient(resolve_endpoint(endpoint)), data_dir=resolve_data_dir(data_dir), options=options
    )
    if summary.state == "skipped":
        print(summary.message)
    else:
        print(
            f"Pipeline {summary.pipeline_run_id} {summary.state} in {summary.seconds:.1f} s: "
            f"{summary.models_new:,} new, {summary.models_changed:,} changed, {summary.models_deleted:,} deleted; "
            + "; ".join(f"{s.stage} {s.state} {s.seconds:.1f} s" for s in summary.stages)
        )
    return summary.as_dict()

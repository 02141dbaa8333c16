"""Build the dbt warehouse into a new DuckDB file and publish it atomically.

Why a new file: readers (the app, SQL users) hold ``warehouse.duckdb`` open read-only. The build
writes ``warehouse.duckdb.building-<id>`` beside it, runs ``dbt build`` (seeds, models, tests)
in-process with the raw landing attached read-only, and only when every node succeeded moves the
new file over the old one with :func:`os.replace`. On Linux the rename swaps the directory entry
only: a reader that opened the old file keeps reading the old inode until it closes. A failed
build deletes its file and leaves the published warehouse untouched; the file of a build that was
killed (SIGKILL, power loss) is deleted by the next build.

Incremental by default: the new file starts as a **copy** of the published warehouse (the published
file itself is only read) and dbt's incremental models process the landing rows appended since that
warehouse was built, told by the table ``main.hubgenome_landing_window`` written into the file
before dbt runs. A full refresh (``--full-refresh``, or whenever the published warehouse cannot be
the starting point) builds from an empty file with ``dbt build --full-refresh``.
:mod:`hubgenome.flows.build_state` decides which and records each build in the warehouse table
``main.hubgenome_builds``. An incremental build that fails is not
retried as a full refresh: it fails like any build, and ``hubgenome build --full-refresh`` is the
remedy when the warehouse it started from is at fault.

Between the dbt build and the publish comes the analytics step (:mod:`hubgenome.flows.analytics_stage`):
:func:`build_and_publish` is the one place that puts the three together, for ``hubgenome build``,
the nightly pipeline and the demo alike; :func:`build_warehouse` alone is the dbt part.

dbt's ``target/`` and ``logs/`` go under ``<data dir>/dbt/`` so the repository stays clean.

What a build runs: seeds, models and data tests. dbt unit tests check the SQL logic on fixed
inputs, not the data, so (as dbt recommends for production) the build leaves them out and the test
suite runs them (``tests/dbt/test_unit_tests.py``). dbt's file log is kept at ``info`` (node
outcomes, failures, timings); set ``HUBGENOME_DBT_LOG_LEVEL=debug`` to also log every SQL
statement, which costs about a second of CPU per build.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from prefect import flow

from hubgenome.core.errors import HubgenomeError, LandingLockedError
from hubgenome.core.paths import dbt_project_dir, paths, resolve_data_dir
from hubgenome.core.settings import resolve_dask_address
from hubgenome.flows import landing
from hubgenome.flows.build_state import BuildMode, BuildPlan, plan_build, record_build, write_landing_window
from hubgenome.flows.options import BuildOptions

#: dbt node statuses that count as success.
_OK_STATUSES = frozenset({"success", "pass", "warn"})

#: ``dbt build`` arguments of a warehouse build: everything but the unit tests (see the module docs).
BUILD_ARGS = ("build", "--exclude-resource-type", "unit_test")

#: Landings with more card fetches than this build with one dbt thread unless ``HUBGENOME_DBT_THREADS``
#: says otherwise. A second thread saves dbt's per-node Python time on small builds (hub-2024-07:
#: 16.5 s vs 20.8 s), but with a card for every model of the whole Hub two heavy nodes share one
#: DuckDB memory pool: with 3M card rows `dim_models` ran out of the default 4 GB beside another
#: node. Two threads then need 6 GB and peak at 6.5 GB RSS; one thread builds in 4 GB (peak 4.6 GB)
#: for 107 s of dbt instead of 101 s (bench/nightly.py --living, 3.04M models).
ONE_THREAD_ABOVE_CARDS = 1_500_000


def dbt_threads(raw_db: Path) -> str:
    """The dbt thread count for a build of ``raw_db``: ``HUBGENOME_DBT_THREADS``, else by the landing's cards."""
    chosen = os.environ.get("HUBGENOME_DBT_THREADS")
    if chosen:
        return chosen
    try:
        with duckdb.connect(str(raw_db), read_only=True) as con:
            rows = con.execute("select count(*) from raw_cards").fetchone()[0]
    except duckdb.Error:
        return "2"  # dbt reports what is wrong with the landing itself
    return "1" if rows > ONE_THREAD_ABOVE_CARDS else "2"


class WarehouseBuildError(HubgenomeError):
    """The warehouse build failed; the previously published warehouse was left in place."""

    def __init__(self, message: str, failed_nodes: list[str] | None = None) -> None:
        super().__init__(message)
        self.failed_nodes = failed_nodes or []


@dataclass(frozen=True)
class BuildResult:
    """What one successful build produced."""

    warehouse: Path
    raw_db: Path
    build_id: str
    elapsed_seconds: float
    models_built: int
    tests_passed: int
    seeds_loaded: int
    run_results: Path
    node_timings: dict[str, float] = field(default_factory=dict)
    #: ``incremental`` (started from a copy of the published warehouse) or ``full_refresh``.
    build_mode: BuildMode = "full_refresh"
    #: Why a full refresh, or which landing rows an incremental build processed.
    mode_reason: str = ""
    #: Per raw table, the ``rowid`` window dbt processed (``{"after": A, "through": T}``).
    landing_window: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def mode_summary(self) -> str:
        """``Incremental build (landing rows since build ...)`` or ``Full refresh: <reason>``."""
        if self.build_mode == "incremental":
            return f"Incremental build ({self.mode_reason})"
        return f"Full refresh: {self.mode_reason}"


@dataclass(frozen=True)
class _NodeOutcome:
    unique_id: str
    resource_type: str
    status: str
    message: str | None
    seconds: float


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove_database_files(path: Path) -> None:
    for candidate in (path, _wal(path)):
        candidate.unlink(missing_ok=True)


def _release_dbt_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches one environment (a DuckDB connection with the raw landing attached) per
    process; as long as it lives, the build file stays open and locked. There is no public API to
    drop it, so this resets the connection manager's class attribute the way its own
    ``close_all_connections`` does, closing the connection first.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if environment is not None:
        environment.close()


def _stable_build_path(build_db: Path) -> Path:
    """``warehouse.duckdb.building-<id>`` -> ``warehouse.duckdb.building`` (same folder)."""
    stem, separator, _ = build_db.name.rpartition(".building-")
    return build_db.with_name(f"{stem}.building") if separator else build_db


def run_dbt(
    args: list[str],
    *,
    raw_db: Path,
    build_db: Path,
    dbt_dir: Path,
    start_from: Path | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> list[_NodeOutcome]:
    """Run one dbt command in-process against ``raw_db`` -> ``build_db``; return every node's outcome.

    With ``start_from`` (an incremental build: the published warehouse) dbt writes into a copy of
    that file instead of an empty one; the file itself is only read. ``prepare`` is called with the
    path of the file dbt is about to write (the copy, or a new file), before dbt opens it.

    The outcomes come from ``run_results.json`` (falling back to the runner's result object when dbt
    failed before writing it).
    """
    from dbt.cli.main import dbtRunner

    project_dir = dbt_project_dir()
    target_path = dbt_dir / "target"
    log_path = dbt_dir / "logs"
    temp_path = dbt_dir / "duckdb_tmp"
    temp_path.mkdir(parents=True, exist_ok=True)
    # dbt reuses target/partial_parse.msgpack only while the rendered profile is unchanged, and the
    # profile holds the database path: dbt therefore always writes to one stable file name beside
    # the build file, which is renamed to ``build_db`` once DuckDB has closed it.
    stable_db = _stable_build_path(build_db)
    if stable_db != build_db:
        _remove_database_files(stable_db)  # left over by a build that was killed
    if start_from is not None:
        # The published file is checkpointed (no WAL beside it) when it is published; readers only
        # read it, so the file alone is the whole warehouse. The copy goes where dbt writes.
        _remove_database_files(stable_db)
        shutil.copyfile(start_from, stable_db)
    if prepare is not None:
        prepare(stable_db)
    env = {
        "HUBGENOME_RAW_DB": str(raw_db),
        "HUBGENOME_BUILD_DB": str(stable_db),
        "HUBGENOME_DUCKDB_TEMP": str(temp_path),
        "HUBGENOME_DBT_THREADS": dbt_threads(raw_db),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    run_results = target_path / "run_results.json"
    run_results.unlink(missing_ok=True)
    try:
        with _environment(env):
            result = dbtRunner().invoke(
                [
                    *args,
                    "--project-dir",
                    str(project_dir),
                    "--profiles-dir",
                    str(project_dir),
                    "--target-path",
                    str(target_path),
                    "--log-path",
                    str(log_path),
                    "--log-level-file",
                    os.environ.get("HUBGENOME_DBT_LOG_LEVEL", "info"),
                    "--no-use-colors",
                ]
            )
    finally:
        _release_dbt_duckdb()
        if stable_db != build_db and stable_db.exists():
            # Fold the write-ahead log into the file under the name it was written with (DuckDB
            # does not replay a WAL next to a renamed file), then rename the file alone.
            with duckdb.connect(str(stable_db)) as con:
                con.execute("checkpoint")
            os.replace(stable_db, build_db)
    if run_results.exists():
        payload = json.loads(run_results.read_text())
        return [
            _NodeOutcome(
                unique_id=item["unique_id"],
                resource_type=item["unique_id"].split(".", 1)[0],
                status=item["status"],
                message=item.get("message"),
                seconds=float(item.get("execution_time") or 0.0),
            )
            for item in payload["results"]
        ]
    if result.exception is not None or not result.success:
        detail = result.exception or "dbt reported failure without results"
        msg = f"dbt {' '.join(args)} failed without writing its run results: {detail} (see {log_path / 'dbt.log'})"
        raise WarehouseBuildError(msg)
    return []


def _remove_stale_builds(warehouse: Path) -> None:
    """Delete ``<warehouse>.building-<id>`` files (and WALs) left by a build that was killed.

    A killed process cannot clean up after itself, and such a file is never resumed nor published;
    like the stable build file in :func:`run_dbt`, it belongs to no build but the one starting now
    (builds of one data directory do not run side by side: they share that stable file).
    """
    for stale in warehouse.parent.glob(f"{warehouse.name}.building-*"):
        stale.unlink(missing_ok=True)


def _check_standalone(build_db: Path) -> None:
    """Checkpoint the new file and make sure it opens on its own, without the raw landing."""
    with duckdb.connect(str(build_db)) as con:
        con.execute("checkpoint")
        attached = {row[0] for row in con.execute("select database_name from duckdb_databases()").fetchall()}
        views = con.execute("select count(*) from duckdb_views() where not internal and sql ilike '%raw.%'").fetchone()[
            0
        ]
    if "raw" in attached or views:
        msg = f"The built warehouse {build_db} still refers to the raw landing; refusing to publish it."
        raise WarehouseBuildError(msg)


def _prepare_build_file(path: Path, plan: BuildPlan) -> None:
    """Ready the file dbt is about to build: tell dbt the landing windows, clear a copy's analytics.

    A copied warehouse's ``analytics`` schema describes the old marts: the analytics step writes it
    again from the new ones, and a build without analytics publishes none (as a build from scratch
    would) rather than the previous build's.
    """
    if plan.incremental:
        with duckdb.connect(str(path)) as con:
            con.execute("drop schema if exists analytics cascade")
    write_landing_window(path, plan)


def build_warehouse(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    raw_db: Path | None = None,
    warehouse: Path | None = None,
    before_publish: Callable[[Path], None] | None = None,
    full_refresh: bool = False,
) -> BuildResult:
    """Build the warehouse from the raw landing and publish it atomically: the dbt part of a build.

    :func:`build_and_publish` puts the analytics step between this build and its publish; called
    directly with no ``before_publish`` (tests of the dbt models, benchmarks of dbt alone), the
    warehouse is published with the dbt models only.

    The build is incremental when it can be (it starts from a copy of the published warehouse and
    dbt processes the landing rows added since), else a full refresh; the result says which and why
    (:attr:`BuildResult.build_mode`, :attr:`BuildResult.mode_reason`; see
    :func:`hubgenome.flows.build_state.plan_build`).

    Parameters
    ----------
    data_dir
        The data directory (default: ``HUBGENOME_DATA_DIR`` or ``./data``).
    raw_db
        The raw landing (default ``<data dir>/raw.duckdb``).
    warehouse
        Where to publish (default ``<data dir>/warehouse.duckdb``).
    before_publish
        Called with the path of the freshly built file after every dbt test passed and before it
        is published (:func:`build_and_publish` passes the analytics step, which writes its tables
        there); if it raises, nothing is published.
    full_refresh
        Rebuild from the whole landing (``dbt build --full-refresh`` into an empty file) even when
        an incremental build is possible.

    Raises
    ------
    WarehouseBuildError
        When any seed, model or test failed; the message names the failed nodes. The previously
        published warehouse is untouched and the half-built file is deleted. A failed incremental
        build is not retried: the message names ``hubgenome build --full-refresh`` as the remedy.

    Examples
    --------
    >>> result = build_warehouse(Path("data"))  # doctest: +SKIP
    >>> result.warehouse.name, result.build_mode  # doctest: +SKIP
    ('warehouse.duckdb', 'incremental')
    """
    data_paths = paths(data_dir)
    raw_db = Path(raw_db or data_paths.raw_db).resolve()
    warehouse = Path(warehouse or data_paths.warehouse_db).resolve()
    if not raw_db.exists():
        msg = f"No raw landing at {raw_db}: run `hubgenome crawl` (or `hubgenome demo`) first."
        raise WarehouseBuildError(msg)
    # A landing made before some of its tables existed (raw_model_counters, raw_id_sweeps,
    # pipeline_runs, ...) lacks sources dbt reads: they are created (empty) before dbt runs.
    try:
        landing.ensure_tables(raw_db)
    except LandingLockedError as exc:
        msg = f"Cannot build the warehouse now: {exc}"
        raise LandingLockedError(msg) from exc
    build_id = uuid.uuid4().hex[:8]
    build_db = warehouse.with_name(f"{warehouse.name}.building-{build_id}")
    _remove_stale_builds(warehouse)
    dbt_dir = data_paths.dbt_dir
    started = time.perf_counter()
    plan = plan_build(warehouse, raw_db, full_refresh=full_refresh)
    print(f"Building warehouse from {raw_db} into {build_db.name}")
    print(plan.summary())
    try:
        outcomes = run_dbt(
            [*BUILD_ARGS, *plan.dbt_args()],
            raw_db=raw_db,
            build_db=build_db,
            dbt_dir=dbt_dir,
            start_from=warehouse if plan.incremental else None,
            prepare=functools.partial(_prepare_build_file, plan=plan),
        )
        failed = [o for o in outcomes if o.status not in _OK_STATUSES]
        if failed or not outcomes:
            names = ", ".join(f"{o.unique_id} ({o.status})" for o in failed) or "no node ran"
            first = next((o.message for o in failed if o.message), "")
            remedy = (
                " This was an incremental build, started from a copy of the published warehouse: if the "
                "failure comes from that warehouse rather than from the new landing rows, "
                "`hubgenome build --full-refresh` rebuilds it from the landing."
                if plan.incremental
                else ""
            )
            msg = (
                f"Warehouse build failed: {names}. {first} The published warehouse {warehouse} was "
                f"left untouched; see {dbt_dir / 'logs' / 'dbt.log'} and fix the failing models or data.{remedy}"
            )
            raise WarehouseBuildError(msg, [o.unique_id for o in failed])
        record_build(
            build_db,
            plan,
            build_id=build_id,
            raw_db=raw_db,
            published=warehouse,
            built_at=dt.datetime.now(dt.UTC),
        )
        if before_publish is not None:
            before_publish(build_db)
        _check_standalone(build_db)
        os.replace(build_db, warehouse)
    except BaseException:
        _remove_database_files(build_db)
        raise
    elapsed = time.perf_counter() - started
    result = BuildResult(
        warehouse=warehouse,
        raw_db=raw_db,
        build_id=build_id,
        elapsed_seconds=elapsed,
        models_built=sum(o.resource_type == "model" for o in outcomes),
        tests_passed=sum(o.resource_type == "test" for o in outcomes),
        seeds_loaded=sum(o.resource_type == "seed" for o in outcomes),
        run_results=dbt_dir / "target" / "run_results.json",
        node_timings={o.unique_id: o.seconds for o in outcomes},
        build_mode=plan.mode,
        mode_reason=plan.reason,
        landing_window=plan.landing_window(),
    )
    print(
        f"Published {warehouse} in {elapsed:.1f} s ({plan.mode.replace('_', ' ')}): {result.models_built} models, "
        f"{result.tests_passed} tests, {result.seeds_loaded} seeds"
    )
    return result


def build_and_publish(
    data_dir: str | os.PathLike[str] | None,
    options: BuildOptions | None = None,
    *,
    raw_db: Path | None = None,
    warehouse: Path | None = None,
) -> BuildResult:
    """Build the warehouse, compute its analytics into the build file, then publish it atomically.

    The one place where build, analytics and publish are put together: ``hubgenome build``, the
    nightly pipeline and the demo all come here, so a published warehouse carries analytics unless
    ``options.analytics`` says otherwise, and an analytics failure (an import error included)
    publishes nothing, whichever way the build was started.

    Parameters
    ----------
    data_dir
        The data directory (its ``raw.duckdb`` is read, ``warehouse.duckdb`` replaced).
    options
        :class:`~hubgenome.flows.options.BuildOptions` (default: with analytics, scored here).
    raw_db, warehouse
        Other paths than the data directory's (see :func:`build_warehouse`).

    Raises
    ------
    WarehouseBuildError
        When a dbt node failed; nothing was published.

    Examples
    --------
    >>> build_and_publish(Path("data"), BuildOptions(dask_address="tcp://scheduler:8786"))  # doctest: +SKIP
    """
    options = options or BuildOptions()
    analyse = None
    if options.analytics:
        # Imported here, not at the top: a build timed without analytics (bench/build.py) never
        # loads scikit-learn and the rest of the analytics' dependencies.
        from hubgenome.flows.analytics_stage import analytics_before_publish

        analyse = functools.partial(analytics_before_publish, dask_address=options.dask_address)
    return build_warehouse(
        data_dir, raw_db=raw_db, warehouse=warehouse, before_publish=analyse, full_refresh=options.full_refresh
    )


@flow(name="build-warehouse", log_prints=True)
def build_flow(
    data_dir: str | None = None,
    raw_db: str | None = None,
    warehouse: str | None = None,
    analytics: bool = True,
    dask_address: str | None = None,
    full_refresh: bool = False,
) -> BuildResult:
    """Build the dbt warehouse from the raw landing, compute the analytics into it, and publish it atomically.

    The new file replaces ``<data dir>/warehouse.duckdb`` only if every dbt test passed and the
    analytics step (the ``run-analytics`` task, with ``analytics=True``) succeeded. It starts from a
    copy of the published warehouse and processes only the landing rows added since (incremental),
    unless ``full_refresh`` asks for a rebuild from the whole landing or the published warehouse
    cannot be the starting point. With ``dask_address`` (or ``HUBGENOME_DASK_ADDRESS``) the
    similarity scoring runs on that Dask cluster.
    """
    return build_and_publish(
        resolve_data_dir(data_dir),
        BuildOptions(analytics=analytics, dask_address=resolve_dask_address(dask_address), full_refresh=full_refresh),
        raw_db=Path(raw_db) if raw_db else None,
        warehouse=Path(warehouse) if warehouse else None,
    )

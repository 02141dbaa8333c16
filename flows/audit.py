"""``hubgenome audit``: does what we hold match the Hub? Counts and samples of every difference.

Completeness is the bar for a crawler: a nightly tool that silently misses part of the Hub is worse
than none. The audit compares the raw landing and the published warehouse with an id sweep, the
newest completed one or a fresh one (``fresh=True`` runs it first), and reports:

``missing``  public models the sweep listed that the landing never landed, or that the published
             warehouse does not hold as active (the figure that must be zero);
``stale``    models landed, but in an older state than the sweep saw (another ``sha``, ``gated`` or
             ``disabled``, and not newer than the sweep), in the landing or in the warehouse;
``extra``    models the warehouse holds as active, first seen before the sweep started, that the
             sweep did not list (deleted, renamed or made private since they were last seen);
``private``  private repos in the published warehouse (must be zero) and in the landing (only a
             crawl with ``--include-private`` lands them, marked).

Sweeps record only public models, so a model the sweep saw is public by definition. A model the
sweep listed that reconciliation then found gone (deleted or made private in between) is
reported as ``gone since the sweep``, not as missing.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass, field

import duckdb

from hubgenome.core.errors import ConfigurationError
from hubgenome.core.paths import paths
from hubgenome.flows import landing
from hubgenome.flows.hub_client import HubClient
from hubgenome.flows.sweeps import run_sweep

SAMPLE_SIZE = 10


@dataclass
class AuditFinding:
    """One kind of difference: how many, and a sample of the ids."""

    count: int = 0
    sample: list[str] = field(default_factory=list)


@dataclass
class AuditReport:
    """What ``hubgenome audit`` found; :attr:`ok` is false when a public model is missing."""

    endpoint: str
    sweep_crawl_id: str
    sweep_started_at: dt.datetime
    fresh_sweep: bool
    warehouse: str | None
    public_models: int
    missing_from_landing: AuditFinding
    missing_from_warehouse: AuditFinding
    stale_in_landing: AuditFinding
    stale_in_warehouse: AuditFinding
    extra_in_warehouse: AuditFinding
    private_in_warehouse: AuditFinding
    private_in_landing: AuditFinding
    gone_since_sweep: AuditFinding = field(default_factory=AuditFinding)
    card_backlog: int = 0
    card_backlog_sample: list[str] = field(default_factory=list)

    missing_public: AuditFinding = field(default_factory=AuditFinding)

    @property
    def missing(self) -> int:
        """Public models missing from the landing or from the published warehouse (each counted once)."""
        return self.missing_public.count

    @property
    def stale(self) -> int:
        return max(self.stale_in_landing.count, self.stale_in_warehouse.count)

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.private_in_warehouse.count == 0

    def figures(self) -> dict[str, int]:
        """The headline counts, as the pipeline's run summary stores them."""
        return {
            "audit_missing": self.missing,
            "audit_stale": self.stale,
            "audit_extra": self.extra_in_warehouse.count,
            "audit_private": self.private_in_warehouse.count + self.private_in_landing.count,
        }

    def as_dict(self) -> dict:
        values = asdict(self)
        values.update(missing=self.missing, stale=self.stale, ok=self.ok)
        return values


def _finding(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> AuditFinding:
    con.execute(f"create or replace temporary table audit_ids as {sql}", params)
    count = con.execute("select count(*) from audit_ids").fetchone()[0]
    sample = [
        row[0]
        for row in con.execute(f"select model_id from audit_ids order by model_id limit {SAMPLE_SIZE}").fetchall()
    ]
    con.execute("drop table audit_ids")
    return AuditFinding(int(count), sample)


_LATEST_LANDED = """
    select raw_models.model_id,
           arg_max(raw_models.rowid, (crawl_runs.started_at, raw_models.rowid)) as row_id
    from raw_models inner join crawl_runs on raw_models.crawl_id = crawl_runs.crawl_id
    group by 1
"""


def compare(
    con: duckdb.DuckDBPyConnection, sweep_crawl_id: str, *, warehouse_attached: bool, endpoint: str
) -> AuditReport:
    """The audit of the landing open on ``con`` (and the warehouse attached as ``wh``) against one sweep."""
    started_at = con.execute("select started_at from crawl_runs where crawl_id = ?", [sweep_crawl_id]).fetchone()[0]
    con.execute(
        """
        create or replace temporary table audit_sweep as
        select model_id, any_value(model_sha) as model_sha, any_value(last_modified_at) as last_modified_at,
               any_value(gated) as gated, any_value(is_disabled) as is_disabled
        from raw_id_sweeps where crawl_id = ? group by 1
        """,
        [sweep_crawl_id],
    )
    # Listed by the sweep, gone (404) when reconciliation asked for them: not missing, just gone since.
    gone_since_sweep = _finding(
        con,
        "select distinct gone.model_id from reconcile_gone as gone inner join crawl_runs using (crawl_id) "
        "where crawl_runs.started_at > ? and gone.model_id in (select model_id from audit_sweep)",
        [started_at],
    )
    con.execute(
        "delete from audit_sweep where model_id in (select model_id from reconcile_gone "
        "inner join crawl_runs using (crawl_id) where crawl_runs.started_at > ?)",
        [started_at],
    )
    public_models = con.execute("select count(*) from audit_sweep").fetchone()[0]
    con.execute(
        f"""
        create or replace temporary table audit_landed as
        with latest as ({_LATEST_LANDED})
        select latest.model_id, rows.payload ->> 'sha' as model_sha,
               try_cast(rows.payload ->> 'lastModified' as timestamptz) as last_modified_at,
               rows.payload ->> 'gated' as gated, try_cast(rows.payload ->> 'disabled' as boolean) as is_disabled,
               coalesce(rows.payload ->> 'private', 'false') = 'true' as is_private
        from latest inner join (select rowid as row_id, payload from raw_models) as rows on latest.row_id = rows.row_id
        """
    )
    stale_condition = """
        coalesce(held.last_modified_at, '-infinity'::timestamptz) <= coalesce(swept.last_modified_at, 'infinity')
        and ((swept.model_sha is not null and swept.model_sha is distinct from held.model_sha)
             or (swept.gated is not null and swept.gated is distinct from held.gated)
             or (swept.is_disabled is not null and swept.is_disabled is distinct from held.is_disabled))
    """
    missing_from_landing = _finding(
        con,
        "select model_id from audit_sweep anti join audit_landed using (model_id)",
        [],
    )
    stale_in_landing = _finding(
        con,
        f"select swept.model_id from audit_sweep as swept inner join audit_landed as held using (model_id) "
        f"where {stale_condition}",
        [],
    )
    private_in_landing = _finding(con, "select model_id from audit_landed where is_private", [])
    empty = AuditFinding()
    missing_from_warehouse = stale_in_warehouse = extra_in_warehouse = private_in_warehouse = empty
    if warehouse_attached:
        con.execute(
            """
            create or replace temporary table audit_held as
            select models.model_id, models.model_sha, models.last_modified_at, models.is_private,
                   models.is_disabled,
                   case when models.gated_mode = 'none' then 'false' else models.gated_mode end as gated,
                   lifecycle.is_active, lifecycle.first_seen_at
            from wh.dim_models as models
            left join wh.dim_model_lifecycle as lifecycle on models.model_id = lifecycle.model_id
            """
        )
        missing_from_warehouse = _finding(
            con,
            "select model_id from audit_sweep where model_id not in "
            "(select model_id from audit_held where coalesce(is_active, true))",
            [],
        )
        stale_in_warehouse = _finding(
            con,
            f"select swept.model_id from audit_sweep as swept inner join audit_held as held using (model_id) "
            f"where {stale_condition}",
            [],
        )
        extra_in_warehouse = _finding(
            con,
            "select model_id from audit_held where coalesce(is_active, true) and first_seen_at <= ? "
            "and model_id not in (select model_id from audit_sweep)",
            [started_at],
        )
        private_in_warehouse = _finding(con, "select model_id from audit_held where is_private", [])
    held_active = (
        "select model_id from audit_held where coalesce(is_active, true)"
        if warehouse_attached
        else "select model_id from audit_sweep"
    )
    missing_public = _finding(
        con,
        f"select model_id from audit_sweep where model_id not in (select model_id from audit_landed) "
        f"or model_id not in ({held_active})",
        [],
    )
    owed, backlog = landing.card_backlog(con, limit=20, endpoint=endpoint)
    return AuditReport(
        endpoint=endpoint,
        sweep_crawl_id=sweep_crawl_id,
        sweep_started_at=started_at,
        fresh_sweep=False,
        warehouse="wh" if warehouse_attached else None,
        public_models=int(public_models),
        missing_from_landing=missing_from_landing,
        missing_from_warehouse=missing_from_warehouse,
        stale_in_landing=stale_in_landing,
        stale_in_warehouse=stale_in_warehouse,
        extra_in_warehouse=extra_in_warehouse,
        private_in_warehouse=private_in_warehouse,
        private_in_landing=private_in_landing,
        gone_since_sweep=gone_since_sweep,
        card_backlog=backlog,
        card_backlog_sample=[model_id for model_id, _ in owed],
        missing_public=missing_public,
    )


def run_audit(
    *,
    client: HubClient,
    data_dir: str | os.PathLike[str],
    fresh: bool = False,
    task_retries: int | None = None,
) -> AuditReport:
    """Audit the landing and the published warehouse of ``data_dir`` against an id sweep of ``client``'s Hub.

    ``fresh`` runs a new id sweep first (landed like any other); otherwise the newest completed
    sweep of the endpoint is used.

    Raises
    ------
    ConfigurationError
        When there is no landing, or no completed id sweep of the endpoint and ``fresh`` is false.
    """
    data_paths = paths(data_dir)
    if not data_paths.raw_db.exists():
        msg = f"No raw landing at {data_paths.raw_db}: run `hubgenome crawl` first."
        raise ConfigurationError(msg)
    if fresh:
        sweep = run_sweep("ids", data_dir=data_paths.data_dir, client=client, task_retries=task_retries)
        sweep_crawl_id = sweep.crawl_id
    else:
        con = landing.connect(data_paths.raw_db, read_only=True)
        try:
            sweep_crawl_id = landing.last_succeeded_run(con, mode="ids", endpoint=client.endpoint)
        finally:
            con.close()
        if sweep_crawl_id is None:
            msg = (
                f"No completed id sweep of {client.endpoint} in {data_paths.raw_db}: run `hubgenome audit --fresh` "
                "(it runs one), or a pipeline with `--id-sweep always`."
            )
            raise ConfigurationError(msg)
    con = landing.connect(data_paths.raw_db, read_only=True)
    try:
        warehouse = data_paths.warehouse_db
        attached = warehouse.exists()
        if attached:
            con.execute(f"attach '{warehouse}' as wh (read_only)")
        report = compare(con, sweep_crawl_id, warehouse_attached=attached, endpoint=client.endpoint)
    finally:
        con.close()
    report.fresh_sweep = fresh
    report.warehouse = str(data_paths.warehouse_db) if report.warehouse else None
    return report

"""The one place that reads the warehouse into the frames the analytics functions expect.

Every other module in :mod:`analytics` is pure (polars in, polars out). This module is the seam: it
takes an open DuckDB connection to a built warehouse (read-only is enough; the analytics run passes
the writable build connection) and returns frames with the documented column names. No paths, no
environment: the caller decides which warehouse. Every query orders its rows explicitly, so the
frames, and the tables computed from them, are the same on every run.

Sources read
------------
``main.dim_models``, ``main.fct_lineage_edges``, ``main.fct_license_conflicts``, ``main.fct_safety_evaluations``,
``staging.stg_hub__models`` (listing fields for the metadata genome), ``staging.stg_hub__cards``
(card text for the card genome), ``staging.stg_hub__crawls`` (the corpus label), and the seeds in
``reference``: ``license_obligation_rules``, ``license_taxonomy``, ``nest_published_figures``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import duckdb
import polars as pl

from hubgenome.analytics.similarity import metadata_genomes

#: The paper's published figures, shipped with the package (a copy of anatomy-2025-07.csv).
PAPER_FIGURES = "data/anatomy-2025-07.csv"

_MODEL_COLUMNS = """
    model_id,
    family_id,
    license_ids,
    language_codes,
    pipeline_tag,
    library_name,
    downloads,
    coalesce(has_card, false) as has_card,
    card_length_characters,
    coalesce(is_auto_generated, false) as is_auto_generated,
    created_at
"""


@dataclass(frozen=True)
class WarehouseInputs:
    """The frames one analytics run needs, read once.

    Attributes
    ----------
    models
        ``dim_models``, one row per model sorted by id: ``model_id``, ``family_id`` (the
        warehouse's tree family), ``license_ids``, ``language_codes`` (list[str]),
        ``pipeline_tag``, ``library_name`` (str), ``downloads`` (int), ``has_card``,
        ``card_length_characters``, ``is_auto_generated``, ``created_at``.
    edges
        Non-dangling ``fct_lineage_edges`` (self-loops are already excluded by the mart):
        ``child_model_id``, ``parent_model_id``, ``relation``, ``has_typed_tag``, sorted.
    dangling_edges
        The dangling ones (parent not crawled), same columns: the paper added such parents as nodes
        only when counting components.
    conflicts
        ``fct_license_conflicts``: ``child_model_id``, ``parent_model_id``, ``rule_id``,
        ``severity``, ``relation``, ``parent_license_id``.
    rules, taxonomy, published
        The ``reference`` seeds ``license_obligation_rules``, ``license_taxonomy``,
        ``nest_published_figures``.
    evaluations
        ``fct_safety_evaluations``: the per-model safety evaluations of Hub models (the bundled reference
        set and the user's imports; closed models, with no Hub id, left out).
    corpus
        Label of the corpus (the crawl endpoint's last path part, e.g. ``trees-2025-04``, or
        ``hub-crawl``), and ``as_of`` the newest model creation date (YYYY-MM-DD).
    """

    models: pl.DataFrame
    edges: pl.DataFrame
    dangling_edges: pl.DataFrame
    conflicts: pl.DataFrame
    rules: pl.DataFrame
    taxonomy: pl.DataFrame
    evaluations: pl.DataFrame
    published: pl.DataFrame
    corpus: str
    as_of: str


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    return con.sql(sql).pl()


def corpus_label(con: duckdb.DuckDBPyConnection) -> str:
    """A short label of the warehouse's corpus: the last path part of the newest crawl's endpoint.

    ``file:///…/trees-2025-04`` → ``trees-2025-04``; an HTTP crawl → ``hub crawl <host>``.
    """
    rows = con.sql(
        "select endpoint from staging.stg_hub__crawls order by started_at desc, crawl_id desc limit 1"
    ).fetchall()
    row = rows[0] if rows else None
    if row is None or not row[0]:
        return "unknown corpus"
    endpoint = str(row[0]).rstrip("/")
    if endpoint.startswith("file://"):
        return endpoint.rsplit("/", 1)[-1]
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    return f"hub crawl {host}"


def load_inputs(con: duckdb.DuckDBPyConnection) -> WarehouseInputs:
    """Read every frame a run needs from the warehouse behind ``con``.

    Raises
    ------
    duckdb.CatalogException
        When a mart is missing: build the warehouse first (``hubgenome build``).
    """
    models = _frame(con, f"select {_MODEL_COLUMNS} from main.dim_models order by model_id")
    edge_sql = """
        select child_model_id, parent_model_id, relation, coalesce(has_typed_tag, false) as has_typed_tag
        from main.fct_lineage_edges
        where {condition}
        order by child_model_id, parent_model_id
    """
    edges = _frame(con, edge_sql.format(condition="not is_dangling"))
    dangling = _frame(con, edge_sql.format(condition="is_dangling"))
    conflicts = _frame(
        con,
        """
        select child_model_id, parent_model_id, rule_id, severity, relation, parent_license_id
        from main.fct_license_conflicts
        order by child_model_id, parent_model_id, rule_id, parent_license_id
        """,
    )
    rules = _frame(con, "select rule_id, severity, explanation from reference.license_obligation_rules order by 1")
    taxonomy = _frame(con, "select license_id, license_category from reference.license_taxonomy order by 1")
    evaluations = _frame(
        con,
        """
        select model_id, method, attack_or_benchmark, metric, value, source
        from main.fct_safety_evaluations
        where model_id is not null  -- closed models of the bundled set are not Hub models
        order by all
        """,
    )
    published = _frame(con, "select * from reference.nest_published_figures order by all")
    newest = con.sql("select max(created_at) from main.dim_models").fetchall()[0][0]
    as_of = newest.date().isoformat() if newest is not None else "unknown"
    return WarehouseInputs(
        models=models,
        edges=edges,
        dangling_edges=dangling,
        conflicts=conflicts,
        rules=rules,
        taxonomy=taxonomy,
        evaluations=evaluations,
        published=published,
        corpus=corpus_label(con),
        as_of=as_of,
    )


def load_listings(con: duckdb.DuckDBPyConnection, model_ids: pl.Series) -> pl.DataFrame:
    """The listing object of ``model_ids`` as JSON, rebuilt from ``stg_hub__models``'s parsed columns.

    The landing keeps the verbatim payload but the warehouse does not (staging parses it), so the
    paper's listing fields are reassembled in its key order: ``_id, id, likes, trendingScore,
    private, downloads, tags, pipeline_tag, library_name, createdAt, modelId``. Keys whose value is
    null are left out (the Hub's listing omits them too).

    Returns
    -------
    polars.DataFrame
        ``model_id`` (str), ``metadata`` (str JSON), sorted by id.
    """
    wanted = pl.DataFrame({"model_id": model_ids.cast(pl.String)}).unique()
    con.register("_analytics_wanted_ids", wanted.to_arrow())
    try:
        return _frame(
            con,
            """
            select
                models.model_id,
                json_object(
                    '_id', models.model_object_id,
                    'id', models.model_id,
                    'likes', models.likes,
                    'trendingScore', models.trending_score,
                    'private', models.is_private,
                    'downloads', models.downloads,
                    'tags', models.tags,
                    'pipeline_tag', models.pipeline_tag,
                    'library_name', models.library_name,
                    'createdAt', strftime(models.created_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.000Z'),
                    'modelId', models.model_id
                )::varchar as metadata
            from staging.stg_hub__models as models
            inner join _analytics_wanted_ids as wanted on models.model_id = wanted.model_id
            order by models.model_id
            """,
        )
    finally:
        con.unregister("_analytics_wanted_ids")


def metadata_genome_loader(
    con: duckdb.DuckDBPyConnection, *, remove_parent_references: bool
) -> Callable[[pl.Series], pl.DataFrame]:
    """A loader for :func:`hubgenome.analytics.similarity.similarity_table`: model ids → metadata genomes.

    Null-valued keys are dropped before rendering, as the listing JSON omits absent fields.
    """

    def load(model_ids: pl.Series) -> pl.DataFrame:
        listings = load_listings(con, model_ids)
        compact = [
            json.dumps({key: value for key, value in json.loads(text).items() if value is not None})
            for text in listings["metadata"].to_list()
        ]
        listings = listings.with_columns(pl.Series("metadata", compact, dtype=pl.String))
        return metadata_genomes(listings, remove_parent_references=remove_parent_references)

    return load


def load_cards(con: duckdb.DuckDBPyConnection, *, min_length: int = 512) -> pl.DataFrame:
    """Card text of the models whose card could be eligible for the card genome (≥ ``min_length`` chars).

    ``is_auto_generated`` comes from ``dim_models`` (the paper's substring rule, applied by the
    warehouse), so :func:`hubgenome.analytics.similarity.card_genomes` does not re-scan the text.

    Returns
    -------
    polars.DataFrame
        ``model_id``, ``card_text`` (str), ``is_auto_generated`` (bool), sorted by id.
    """
    return _frame(
        con,
        f"""
        select cards.model_id, cards.card_text, coalesce(models.is_auto_generated, false) as is_auto_generated
        from staging.stg_hub__cards as cards
        inner join main.dim_models as models on cards.model_id = models.model_id
        where cards.has_card_text and length(cards.card_text) >= {int(min_length)}
        order by cards.model_id
        """,
    )


def paper_figures() -> pl.DataFrame:
    """The paper's published figures (``anatomy-2025-07.csv``): metric, value, unit, scope, source."""
    text = resources.files("hubgenome.analytics").joinpath(PAPER_FIGURES).read_text(encoding="utf-8")
    return pl.read_csv(text.encode(), schema_overrides={"value": pl.Float64})

"""Land a corpus folder (``shared/hubdata`` layout) into the raw landing as one succeeded crawl.

Why it exists: the crawler lands the Hub page by page through HTTP, which is the real path but slow
for whole-Hub corpora. Tests and benchmarks need the same landing rows in seconds, so this module
reads ``models-NN.jsonl.gz`` and ``cards-NN.jsonl.gz`` with DuckDB's own newline-delimited JSON
reader and inserts them in one transaction, exactly as one crawl would have.

What differs from a crawl, on purpose:

- Payloads keep only the listing properties the crawler asks for (``hubgenome.core.settings.CRAWL_EXPAND``
  plus ``id``, ``_id`` and ``modelId``); corpus extras such as ``siblings``, ``config`` or
  ``spaces`` are dropped, as the crawler's listing would never contain them.
- Every card in ``cards-NN.jsonl.gz`` lands with status ``ok`` (HTTP 200). Models without a card in
  the corpus get **no** card row, which the warehouse reads as "card never fetched" (not as
  ``missing``): a corpus without cards says nothing about whether the README exists.
- Listing pages are 1,000 models each, in file order, so page numbers follow the corpus order.
"""

from __future__ import annotations

from pathlib import Path

from hubgenome.core.errors import CorpusFormatError
from hubgenome.core.settings import CRAWL_EXPAND
from hubgenome.flows import landing

PAGE_SIZE = 1000

#: Keys a corpus object may carry that the crawler's listing never returns.
_DROPPED_KEYS = (
    "siblings",
    "config",
    "spaces",
    "widgetData",
    "transformersInfo",
    "model-index",
    "usedStorage",
    "inference",
    "mask_token",
)


def _glob(corpus_dir: Path, prefix: str) -> list[Path]:
    return sorted(corpus_dir.glob(f"{prefix}-*.jsonl.gz"))


def import_corpus(
    corpus_dir: Path,
    raw_db: Path,
    *,
    mode: str = "import",
    endpoint: str | None = None,
) -> str:
    """Land every model and card of ``corpus_dir`` into ``raw_db`` as one succeeded crawl.

    Parameters
    ----------
    corpus_dir
        A folder with ``models-NN.jsonl.gz`` (and optionally ``cards-NN.jsonl.gz``) files.
    raw_db
        The raw landing database; created with :func:`hubgenome.flows.landing.connect` if missing.
    mode
        The crawl mode recorded in ``crawl_runs`` (``import`` by default).
    endpoint
        The endpoint recorded for the crawl; defaults to ``file://<corpus_dir>``.

    Returns
    -------
    str
        The new crawl's id.

    Examples
    --------
    >>> crawl_id = import_corpus(Path("../shared/hubdata/trees-2025-04"), Path("data/raw.duckdb"))
    """
    corpus_dir = Path(corpus_dir).resolve()
    model_files = _glob(corpus_dir, "models")
    if not model_files:
        msg = (
            f"No models-NN.jsonl.gz files in {corpus_dir}: point at a corpus folder laid out as "
            "described in shared/hubdata/README.md."
        )
        raise CorpusFormatError(msg)
    card_files = _glob(corpus_dir, "cards")
    endpoint = endpoint or f"file://{corpus_dir}"
    started_at = landing.utcnow()
    crawl_id = landing.new_crawl_id(mode, started_at)
    fetched_at = started_at
    keep = ["id", "_id", "modelId", *CRAWL_EXPAND]
    drop_patch = "{" + ",".join(f'"{key}":null' for key in _DROPPED_KEYS) + "}"
    keep_sql = " or ".join(f"json_exists(json, '$.\"{key}\"')" for key in _DROPPED_KEYS)
    models_glob = [str(path) for path in model_files]

    con = landing.connect(raw_db)
    con.execute("set enable_progress_bar = false")
    try:
        con.execute("begin transaction")
        con.execute(
            """
            insert into crawl_runs (crawl_id, mode, endpoint, sort_by, expand, started_at, state)
            values (?, ?, ?, null, ?, ?, 'running')
            """,
            [crawl_id, mode, endpoint, keep, started_at],
        )
        con.execute(
            f"""
            create temp table corpus_models as
            select
                json_extract_string(json, '$.id') as model_id,
                cast((row_number() over () - 1) // {PAGE_SIZE} as integer) as page_number,
                case when {keep_sql} then json_merge_patch(json, '{drop_patch}') else json end as payload
            from read_ndjson_objects(?, format = 'newline_delimited', compression = 'gzip')
            """,
            [models_glob],
        )
        missing_ids = con.execute("select count(*) from corpus_models where model_id is null").fetchone()[0]
        if missing_ids:
            msg = f"{missing_ids} model objects in {corpus_dir} have no 'id': the corpus is malformed."
            raise CorpusFormatError(msg)
        con.execute(
            "insert into raw_models select ?, model_id, page_number, ?, payload from corpus_models",
            [crawl_id, fetched_at],
        )
        con.execute(
            """
            insert into crawl_pages
            select ?, page_number, ? || '#page=' || page_number, null, count(*), ?
            from corpus_models group by page_number order by page_number
            """,
            [crawl_id, endpoint, fetched_at],
        )
        if card_files:
            con.execute(
                """
                insert into raw_cards
                with cards as (
                    select json_extract_string(json, '$.id') as model_id,
                           json_extract_string(json, '$.readme') as card_text
                    from read_ndjson_objects(?, format = 'newline_delimited', compression = 'gzip')
                ),
                shas as (
                    select model_id, any_value(json_extract_string(payload, '$.sha')) as model_sha
                    from corpus_models group by model_id
                )
                select ?, cards.model_id, ?, shas.model_sha, 'ok', 200, cards.card_text,
                       sha256(cards.card_text), null
                from cards left join shas using (model_id)
                where cards.model_id is not null and cards.card_text is not null
                """,
                [[str(path) for path in card_files], crawl_id, fetched_at],
            )
        pages, models = con.execute("select count(distinct page_number), count(*) from corpus_models").fetchone()
        con.execute(
            "update crawl_runs set pages_landed = ?, models_landed = ? where crawl_id = ?",
            [pages, models, crawl_id],
        )
        landing.finish_run(con, crawl_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists corpus_models")
        con.close()
    return crawl_id

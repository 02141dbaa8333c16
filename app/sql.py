"""The SQL console's engine: run one ad-hoc, read-only query against the warehouse, bounded in every way.

Why a module of its own: the console is the one place where text typed by a user reaches DuckDB,
so its guarantees are kept here, in plain Python that the attack-list test drives without
Streamlit. Layers, each sufficient for the usual attacks on its own:

1. **Length**: queries longer than ``max_query_chars`` are refused before parsing.
2. **Allow-list**: DuckDB's own parser (:func:`duckdb.extract_statements`) must find exactly one
   statement, of type SELECT (which covers ``WITH … SELECT``, ``FROM …``, ``VALUES``, ``TABLE``,
   ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``, ``UNPIVOT``), EXPLAIN of such a statement, or the MULTI
   statement DuckDB makes of a ``PIVOT``. Writes, ``ATTACH``/``DETACH``, ``COPY``, ``EXPORT``/``IMPORT``,
   ``INSTALL``/``LOAD``, ``SET``/``RESET``/``USE``, ``PRAGMA``, ``CALL``/``CHECKPOINT``, transactions,
   ``PREPARE``/``EXECUTE`` and ``VACUUM`` are refused with a message naming the statement type.
3. **Connection**: a separate DuckDB instance (:func:`hubgenome.app._connect.connect_read_only`) with the file
   attached read-only, external access off (no ``read_csv('/etc/passwd')``, ``glob``, URLs), no
   extension installs or auto-loads, no spilling to disk, a memory cap, and the configuration
   locked after setup.
4. **Rows**: the query runs as ``select * from (<query>) limit row_limit + 1``; the extra row only
   tells whether the result was truncated.
5. **Time**: the query runs in a worker thread; after ``time_limit`` seconds its cursor is
   interrupted (:meth:`duckdb.DuckDBPyConnection.interrupt`) and the caller gets a
   :class:`QueryTimeoutError`.

Every refusal or failure is a :class:`SqlConsoleError` whose message says what to do instead.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from hubgenome.app._connect import CATALOG, connect_read_only, use_warehouse
from hubgenome.core.errors import HubgenomeError

DEFAULT_ROW_LIMIT = 10_000
DEFAULT_TIME_LIMIT = 10.0
DEFAULT_MAX_QUERY_CHARS = 20_000
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2

ALLOWED = "SELECT, WITH … SELECT, FROM …, VALUES, EXPLAIN, DESCRIBE, SHOW, SUMMARIZE, PIVOT, UNPIVOT"
_READ_KEYWORDS = frozenset(
    {"select", "with", "from", "values", "table", "describe", "desc", "show", "summarize", "pivot", "unpivot", "("}
)
_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_EXPLAIN = re.compile(r"\Aexplain(?:\s+analy[sz]e)?\b", re.IGNORECASE)
_WHY_REFUSED = {
    "INSERT": "the console is read-only",
    "UPDATE": "the console is read-only",
    "DELETE": "the console is read-only",
    "CREATE": "the console is read-only (to keep an intermediate result, use WITH name AS (...))",
    "DROP": "the console is read-only",
    "ALTER": "the console is read-only",
    "ATTACH": "only the published warehouse can be queried",
    "DETACH": "the warehouse stays attached",
    "COPY": "files cannot be read or written; use the download buttons under the result instead",
    "EXPORT": "files cannot be written; use the download buttons under the result instead",
    "LOAD": "extensions cannot be installed or loaded",
    "SET": "settings are fixed (and USE is not needed: the warehouse is the default catalog)",
    "PRAGMA": "settings are fixed; for metadata use duckdb_tables(), duckdb_columns() or DESCRIBE",
    "CALL": "procedures (and CHECKPOINT) are not allowed; for table functions use SELECT * FROM f(...)",
    "TRANSACTION": "each query runs on its own; transactions are not needed",
    "PREPARE": "prepared statements are not supported; write the values into the query",
    "EXECUTE": "prepared statements are not supported; write the values into the query",
    "VACUUM": "the warehouse is read-only",
}


class SqlConsoleError(HubgenomeError):
    """A console query was refused, failed, or ran out of time; the message says what to do."""


class QueryRefusedError(SqlConsoleError):
    """The query was refused before it ran (too long, not one statement, not read-only)."""


class QueryTimeoutError(SqlConsoleError):
    """The query ran longer than the console's time limit and was interrupted."""


class QueryFailedError(SqlConsoleError):
    """DuckDB rejected or could not finish the query (syntax, unknown table, memory, permissions)."""


@dataclass(frozen=True)
class QueryResult:
    """One console run: the rows (at most ``row_limit``), whether more existed, and the wall time."""

    frame: pl.DataFrame
    truncated: bool
    row_limit: int
    seconds: float
    statement: str


def _strip_leading_comments(text: str) -> str:
    return text[_LEADING_COMMENTS.match(text).end() :]


def _first_keyword(text: str) -> str:
    body = _strip_leading_comments(text).lstrip()
    if body.startswith("("):
        return "("
    match = re.match(r"[A-Za-z_]+", body)
    return match.group(0).lower() if match else ""


def _statement_body(statement: duckdb.Statement) -> str:
    text = statement.query.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _parse_one(query: str) -> duckdb.Statement:
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as error:
        msg = f"DuckDB could not parse the query: {error}"
        raise QueryRefusedError(msg) from error
    if len(statements) != 1:
        msg = (
            f"Exactly one statement per run, found {len(statements)}: run them one at a time "
            "(or combine them with WITH … or UNION ALL)."
        )
        raise QueryRefusedError(msg)
    return statements[0]


def _check_read_only(statement: duckdb.Statement, *, allow_explain: bool = True) -> str:
    """The statement's text if it is on the allow-list, else :class:`QueryRefusedError`."""
    try:
        kind = statement.type.name
    except ValueError as error:  # a statement type the Python client does not know (e.g. UPDATE EXTENSIONS)
        msg = f"This statement is not allowed: the console runs only {ALLOWED}."
        raise QueryRefusedError(msg) from error
    body = _statement_body(statement)
    keyword = _first_keyword(body)
    if kind == "SELECT" and keyword in _READ_KEYWORDS:
        return body
    if kind == "MULTI" and keyword in {"pivot", "unpivot", "select", "with", "from", "("} and "pivot" in body.lower():
        return body
    if kind == "EXPLAIN" and allow_explain:
        inner = _EXPLAIN.sub("", _strip_leading_comments(body), count=1)
        _check_read_only(_parse_one(inner), allow_explain=False)
        return body
    reason = _WHY_REFUSED.get(kind, "it is not a read-only query")
    msg = f"{kind} statements are not allowed: {reason}. The console runs only {ALLOWED}."
    raise QueryRefusedError(msg)


def check_query(
    query: str, *, max_query_chars: int = DEFAULT_MAX_QUERY_CHARS, row_limit: int = DEFAULT_ROW_LIMIT
) -> str:
    """The SQL the console would run for ``query``, or :class:`QueryRefusedError` saying why not.

    Examples
    --------
    >>> check_query("select 1", row_limit=5)
    'select * from (\\nselect 1\\n) limit 6'
    >>> check_query("drop table dim_models")
    Traceback (most recent call last):
    ...
    hubgenome.app.sql.QueryRefusedError: DROP statements are not allowed: the console is read-only. ...
    """
    if not query or not query.strip():
        msg = "Type a query first, e.g. `select * from dim_models limit 10`."
        raise QueryRefusedError(msg)
    if len(query) > max_query_chars:
        msg = (
            f"The query is {len(query):,} characters long; the console accepts at most {max_query_chars:,}. "
            "Shorten it (long IN lists can often become a join or a WHERE on a pattern)."
        )
        raise QueryRefusedError(msg)
    body = _check_read_only(_parse_one(query))
    if _first_keyword(body) == "explain":
        return body
    wrapped = f"select * from (\n{body}\n) limit {row_limit + 1}"
    # belt and braces: the wrapped text must still be exactly one read-only statement
    _check_read_only(_parse_one(wrapped), allow_explain=False)
    return wrapped


def _failure_message(error: duckdb.Error, memory_limit: str) -> str:
    text = str(error).strip()
    if isinstance(error, duckdb.PermissionException):
        return (
            f"{text}. The console cannot read or write files or URLs, attach databases or install "
            "extensions; query the warehouse's tables instead."
        )
    if isinstance(error, duckdb.OutOfMemoryException):
        first = text.splitlines()[0] if text else "out of memory"
        return (
            f"{first}. The query needs more than the console's {memory_limit} memory limit: filter, "
            "aggregate or add a LIMIT earlier in the query."
        )
    if isinstance(error, duckdb.CatalogException):
        return f"{text}. Browse the schema beside the editor for table and column names."
    if isinstance(error, duckdb.InvalidInputException) and "lock" in text.lower():
        return f"{text}. Settings are fixed in the console."
    return text


class SqlConsole:
    """A bounded, read-only SQL runner over one warehouse file.

    Parameters
    ----------
    path
        The warehouse file.
    row_limit
        Most rows returned per query.
    time_limit
        Seconds before a running query is interrupted.
    max_query_chars
        Longest query text accepted.
    memory_limit, threads
        Caps of the console's own DuckDB instance.

    Examples
    --------
    >>> console = SqlConsole("data/warehouse.duckdb")  # doctest: +SKIP
    >>> console.run("select count(*) as n from dim_models").frame  # doctest: +SKIP
    >>> console.run("drop table dim_models")  # doctest: +SKIP
    Traceback (most recent call last):
    QueryRefusedError: DROP statements are not allowed: the console is read-only. ...
    """

    def __init__(
        self,
        path: Path | str,
        *,
        row_limit: int = DEFAULT_ROW_LIMIT,
        time_limit: float = DEFAULT_TIME_LIMIT,
        max_query_chars: int = DEFAULT_MAX_QUERY_CHARS,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        self.path = Path(path)
        self.row_limit = row_limit
        self.time_limit = time_limit
        self.max_query_chars = max_query_chars
        self.memory_limit = memory_limit
        self._con = connect_read_only(self.path, memory_limit=memory_limit, threads=threads)

    def close(self) -> None:
        """Close the console's DuckDB instance."""
        self._con.close()

    def check(self, query: str) -> str:
        """The SQL :meth:`run` would execute for ``query`` (or :class:`QueryRefusedError`)."""
        return check_query(query, max_query_chars=self.max_query_chars, row_limit=self.row_limit)

    def run(self, query: str) -> QueryResult:
        """Run one read-only query within the row, time and memory limits.

        Raises
        ------
        QueryRefusedError
            The query is not a single read-only statement, or is too long.
        QueryTimeoutError
            It ran longer than ``time_limit`` seconds and was interrupted.
        QueryFailedError
            DuckDB reported an error (message included, with a hint).
        """
        statement = self.check(query)
        cursor = use_warehouse(self._con.cursor())
        outcome: dict[str, object] = {}

        def work() -> None:
            try:
                relation = cursor.sql(statement)
                outcome["table"] = relation.to_arrow_table() if relation is not None else None
            except BaseException as error:
                outcome["error"] = error

        started = time.perf_counter()
        worker = threading.Thread(target=work, name="sql-console-query", daemon=True)
        worker.start()
        worker.join(self.time_limit)
        timed_out = worker.is_alive()
        if timed_out:
            cursor.interrupt()
            worker.join(5.0)
        seconds = time.perf_counter() - started
        if not worker.is_alive():
            cursor.close()
        error = outcome.get("error")
        if timed_out or isinstance(error, duckdb.InterruptException):
            msg = (
                f"The query ran longer than the console's {self.time_limit:g} s time limit and was stopped. "
                "Filter or aggregate earlier, or add a LIMIT."
            )
            raise QueryTimeoutError(msg)
        if isinstance(error, duckdb.Error):
            raise QueryFailedError(_failure_message(error, self.memory_limit)) from error
        if isinstance(error, BaseException):
            msg = f"The query failed: {error}"
            raise QueryFailedError(msg) from error
        table = outcome.get("table")
        frame = pl.DataFrame() if table is None else pl.from_arrow(table)
        if not isinstance(frame, pl.DataFrame):
            frame = frame.to_frame()
        truncated = frame.height > self.row_limit
        return QueryResult(
            frame=frame.head(self.row_limit),
            truncated=truncated,
            row_limit=self.row_limit,
            seconds=seconds,
            statement=statement,
        )

    def schema(self) -> pl.DataFrame:
        """Every table and view of the warehouse with its columns, types and descriptions."""
        cursor = use_warehouse(self._con.cursor())
        try:
            return cursor.sql(
                f"""
                select
                    c.schema_name as schema,
                    c.table_name as "table",
                    c.column_name as "column",
                    c.data_type as type,
                    c.comment as description
                from duckdb_columns() as c
                where c.database_name = '{CATALOG}'
                order by
                    case c.schema_name when 'main' then 0 when 'analytics' then 1 when 'reference' then 2
                        when 'staging' then 3 else 4 end,
                    c.schema_name, c.table_name, c.column_index
                """
            ).pl()
        finally:
            cursor.close()


def _as_json(value: object) -> str:
    return json.dumps(value.to_list() if isinstance(value, pl.Series) else value, default=str)


def downloadable(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with nested and binary columns turned into text, so it can be written as CSV."""
    casts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List | pl.Array | pl.Struct):
            casts.append(pl.col(name).map_elements(_as_json, return_dtype=pl.String, skip_nulls=True))
        elif dtype in (pl.Binary, pl.Object):
            casts.append(pl.col(name).cast(pl.String, strict=False))
    return frame.with_columns(casts) if casts else frame

"""Open the published warehouse read-only, sealed against files, extensions and settings changes.

(Not named `_duckdb`: `streamlit run app/streamlit_app.py` puts `app/` first on `sys.path`, where such a
name would shadow DuckDB's own `_duckdb` extension module.)

Why not ``duckdb.connect(path, read_only=True)``: DuckDB keeps one database instance per path and
process and hands it back to every later ``connect(path)``. After an atomic publish
(:func:`os.replace` of ``warehouse.duckdb``) the path names a new inode, but ``connect(path)``
would still return the old instance and the app would keep showing the previous warehouse. Every
connection here is therefore a fresh in-memory instance that ``ATTACH``es the file read-only as
``warehouse``; each attach reads the inode the path names at that moment. A second reason: two
``connect(path)`` calls with different settings in one process fail ("different configuration"),
whereas the SQL console needs its own, stricter instance.

After the attach the instance turns external access off (no file, URL or glob reads, no
``ATTACH``/``COPY``/``INSTALL``), disables extension auto-install/auto-load and community
extensions, disables spilling to disk, and locks its configuration so no statement can undo any
of it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

#: Catalog name the warehouse file is attached under (also its name for ``USE``).
CATALOG = "warehouse"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect_read_only(
    path: Path | str,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """A new, locked, read-only DuckDB instance with the warehouse at ``path`` attached as ``warehouse``.

    New cursors start in the in-memory catalog: call :func:`use_warehouse` on each (the
    configuration lock does not forbid ``USE``).

    Parameters
    ----------
    path
        The warehouse file.
    memory_limit, threads
        Optional caps for this instance (the SQL console sets both).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    duckdb.Error
        When the file is not a DuckDB database (or is locked by a writer).

    Examples
    --------
    >>> con = connect_read_only("data/warehouse.duckdb")  # doctest: +SKIP
    >>> use_warehouse(con.cursor()).execute("select count(*) from dim_models").fetchone()  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        msg = f"No warehouse file at {path}: build one with `hubgenome build` (or `hubgenome demo`)."
        raise FileNotFoundError(msg)
    config: dict[str, object] = {
        "allow_community_extensions": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads is not None:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    try:
        con.execute(f"attach {_quote(str(path))} as {CATALOG} (read_only)")
        con.execute(f"use {CATALOG}")
        con.execute("set temp_directory = ''")
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def use_warehouse(cursor: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Point a cursor of :func:`connect_read_only` at the warehouse catalog; returns the cursor."""
    cursor.execute(f"use {CATALOG}")
    return cursor

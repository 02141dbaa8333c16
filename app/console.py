"""What the SQL console page reads: its own sealed DuckDB instance per warehouse, and the schema browser.

The console's guarantees (allow-list, limits, sealed connection) are in :mod:`hubgenome.app.sql`,
which runs without Streamlit; this module only caches one console per warehouse identity.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from hubgenome.app.sql import SqlConsole
from hubgenome.app.warehouse import WarehouseFile, close_quietly, frame


@st.cache_resource(max_entries=2, show_spinner=False, on_release=close_quietly)
def sql_console(wh: WarehouseFile) -> SqlConsole:
    """The SQL console's own, separately locked DuckDB instance for ``wh``."""
    return SqlConsole(wh.path)


def schema(wh: WarehouseFile) -> pl.DataFrame:
    """(schema, table, column, type, description) of every column, marts first, then analytics, reference, staging."""
    return frame(
        wh,
        """
        select c.schema_name as schema, c.table_name as "table", c.column_name as "column",
            c.data_type as type, c.comment as description
        from duckdb_columns() as c
        where c.database_name = 'warehouse'
        order by case c.schema_name when 'main' then 0 when 'analytics' then 1 when 'reference' then 2
                when 'staging' then 3 else 4 end,
            c.schema_name, c.table_name, c.column_index
        """,
    )

"""SQL console: ad-hoc read-only SQL against the warehouse, with a schema browser and downloads.

The engine (allow-list, read-only sealed connection, row/time/memory limits) is :mod:`hubgenome.app.sql`.
"""

from __future__ import annotations

import io

import polars as pl
import streamlit as st

from hubgenome.app import console, warehouse
from hubgenome.app.sql import ALLOWED, QueryTimeoutError, SqlConsoleError, downloadable

EXAMPLES = {
    "Largest families": "select family_id, family_size, max_depth, max_width\nfrom dim_families\n"
    "order by family_size desc\nlimit 20",
    "Edges by relation": "select relation, count(*) as edges\nfrom fct_lineage_edges\nwhere not is_dangling\n"
    "group by relation\norder by edges desc",
    "Licence conflicts by rule": "select rule_id, severity, count(*) as conflicts\nfrom fct_license_conflicts\n"
    "group by all\norder by conflicts desc",
    "Columns of dim_models": "describe dim_models",
}

st.title("SQL console")
wh = warehouse.require_warehouse()
engine = console.sql_console(wh)
st.caption(
    f"Read-only: {ALLOWED}. One statement per run, at most {engine.row_limit:,} rows, "
    f"{engine.time_limit:g} s and {engine.memory_limit} memory; no files, URLs, extensions or settings."
)

editor, browser = st.columns([3, 2])
with browser:
    st.markdown("**Schema**")
    schema = console.schema(wh)
    tables = schema.select("schema", "table").unique(maintain_order=True)
    labels = [f"{s}.{t}" for s, t in tables.iter_rows()]
    picked = st.selectbox("Table", labels, key="sql_schema_table")
    if picked:
        schema_name, table_name = picked.split(".", 1)
        st.dataframe(
            schema.filter((pl.col("schema") == schema_name) & (pl.col("table") == table_name)).select(
                "column", "type", "description"
            ),
            hide_index=True,
            width="stretch",
            height=320,
        )
with editor:
    example = st.selectbox("Example", ["(none)", *EXAMPLES], key="sql_example")
    if example != "(none)" and st.session_state.get("sql_loaded_example") != example:
        st.session_state["sql_query"] = EXAMPLES[example]
        st.session_state["sql_loaded_example"] = example
    query = st.text_area(
        "Query",
        key="sql_query",
        height=180,
        placeholder="select * from dim_models order by downloads desc limit 10",
    )
    run = st.button("Run", type="primary", key="sql_run")

if run:
    try:
        st.session_state["sql_result"] = engine.run(query)
        st.session_state["sql_error"] = None
    except SqlConsoleError as error:
        st.session_state["sql_result"] = None
        st.session_state["sql_error"] = (type(error).__name__, str(error), isinstance(error, QueryTimeoutError))

failure = st.session_state.get("sql_error")
result = st.session_state.get("sql_result")
if failure:
    kind, message, is_timeout = failure
    (st.warning if is_timeout else st.error)(message)
elif result is not None:
    more = f" (truncated at the {result.row_limit:,}-row limit)" if result.truncated else ""
    st.success(f"{result.frame.height:,} rows in {result.seconds:.2f} s{more}")
    st.dataframe(result.frame, hide_index=True, width="stretch")
    downloads = st.columns(2)
    downloads[0].download_button(
        "Download CSV",
        downloadable(result.frame).write_csv(),
        file_name="hubgenome-query.csv",
        mime="text/csv",
        key="sql_csv",
    )
    buffer = io.BytesIO()
    result.frame.write_parquet(buffer)
    downloads[1].download_button(
        "Download Parquet",
        buffer.getvalue(),
        file_name="hubgenome-query.parquet",
        mime="application/vnd.apache.parquet",
        key="sql_parquet",
    )

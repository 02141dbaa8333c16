{#- The window of landing rows a build processes (issue 13: incremental builds).

    The landing's raw tables are append-only, so a row's DuckDB rowid is its stable append
    position. Before dbt runs, the build (hubgenome.flows.build) writes into the build file's
    `main.hubgenome_landing_window` one row per raw table: `after`, the last rowid the previous
    build processed (-1 on a full refresh), and `through`, the table's last rowid when this build
    started (rows a crawl lands during the build wait for the next one). It is a table read at run
    time rather than a dbt var because dbt re-parses the whole project whenever `--vars` change
    (5 s a night). Without the table (dbt run by hand) every row is in the window. -#}

{% macro landing_window(table) -%}
    {%- set window = {'after': -1, 'through': 9223372036854775807} -%}
    {%- if execute -%}
        {%- set relation = adapter.get_relation(
            database=target.database, schema='main', identifier='hubgenome_landing_window'
        ) -%}
        {%- if relation is not none -%}
            {%- set rows = run_query(
                "select after, through from " ~ relation ~ " where table_name = '" ~ table ~ "'"
            ).rows -%}
            {%- if rows | length > 0 -%}
                {%- do window.update({'after': rows[0][0] | int, 'through': rows[0][1] | int}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(window) }}
{%- endmacro %}

{% macro landing_after(table) -%}
    {{ return(landing_window(table)['after']) }}
{%- endmacro %}

{% macro landing_through(table) -%}
    {{ return(landing_window(table)['through']) }}
{%- endmacro %}

{#- `where` condition keeping the landing rows of `table` that this build has not processed yet:
    on an incremental run of the calling model, the rows after the previous build's; otherwise all
    of them (both capped at `through`). `row_id` is the column holding the rowid. -#}
{% macro new_landing_rows(table, row_id='landing_row_id') -%}
    {%- set window = landing_window(table) -%}
    {%- if is_incremental() -%}
        {{ row_id }} > {{ window['after'] }} and {{ row_id }} <= {{ window['through'] }}
    {%- else -%}
        {{ row_id }} <= {{ window['through'] }}
    {%- endif -%}
{%- endmacro %}

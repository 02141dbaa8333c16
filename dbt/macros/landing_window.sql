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

{#- Start of the earliest crawl with rows in this build's landing window: every row an incremental
    history model writes in this build was last observed then or later. '-infinity' when the
    window has no observation or every window starts at the landing's first row (a full refresh). -#}
{% macro first_new_observation() -%}
    {%- set tables = ['raw_models', 'raw_model_counters', 'raw_id_sweeps'] -%}
    {%- set conditions = [] -%}
    {%- for table in tables -%}
        {%- set window = landing_window(table) -%}
        {%- if window['after'] >= 0 -%}
            {%- do conditions.append(
                'select crawl_id from raw.' ~ table ~ ' where rowid > ' ~ window['after']
                ~ ' and rowid <= ' ~ window['through']
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not execute or conditions | length == 0 -%}
        {{ return("'-infinity'::timestamptz") }}
    {%- endif -%}
    {%- set rows = run_query(
        "select coalesce(min(started_at), 'infinity'::timestamptz)::varchar from raw.crawl_runs "
        ~ "where crawl_id in (" ~ conditions | join(' union ') ~ ")"
    ).rows -%}
    {{ return("'" ~ rows[0][0] ~ "'::timestamptz") }}
{%- endmacro %}

{#- Data tests on tables that grow with the nights check only what this build wrote: their `where`
    config names the rows with placeholders replaced when the test runs (dbt renders a test's
    `where` when it parses the project, before the landing window is known; this is dbt's
    documented way to give it run-time values):
    `__after_<raw table>__` the window's `after` rowid of that raw table (-1 on a full refresh);
    `__first_new_observation__` see first_new_observation(). -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set values = {} -%}
    {%- for table in ['raw_models', 'raw_model_counters', 'raw_id_sweeps', 'raw_cards'] -%}
        {%- if ('__after_' ~ table ~ '__') in where -%}
            {%- do values.update({'__after_' ~ table ~ '__': landing_after(table) | string}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if '__first_new_observation__' in where -%}
        {%- do values.update({'__first_new_observation__': first_new_observation()}) -%}
    {%- endif -%}
    {%- set parts = [where] -%}
    {%- for placeholder, value in values.items() -%}
        {%- do parts.append(parts[-1] | replace(placeholder, value)) -%}
    {%- endfor -%}
    {%- do return('(select * from ' ~ relation ~ ' where ' ~ parts[-1] ~ ') dbt_subquery') -%}
{%- endmacro %}

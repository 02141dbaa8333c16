{#- The column is the table's key: never null and never repeated. One group-by over the table does
    both checks, where the separate `not_null` and `unique` tests would run two queries (two dbt
    nodes, two scans); a failing row is a repeated key (with its row count) or the null key. -#}
{% test primary_key(model, column_name) %}

select {{ column_name }} as key_value, count(*) as key_rows
from {{ model }}
group by 1
having count(*) > 1 or {{ column_name }} is null

{% endtest %}

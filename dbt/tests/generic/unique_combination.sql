{#- The columns together identify each row (no duplicates of the combination). -#}
{% test unique_combination(model, combination) %}

select {{ combination | join(', ') }}, count(*) as duplicates
from {{ model }}
group by all
having count(*) > 1

{% endtest %}

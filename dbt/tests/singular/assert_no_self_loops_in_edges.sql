-- Self-loops are removed from the published edge table (they are listed in fct_lineage_anomalies).
select edge_id
from {{ ref('fct_lineage_edges') }}
where child_model_id = parent_model_id

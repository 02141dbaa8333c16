-- Every model belongs to exactly one family: family sizes add up to the number of models.
with

families as (

    select sum(family_size) as family_members from {{ ref('dim_families') }}

),

models as (

    select count(*) as models from {{ ref('dim_models') }}

)

select families.family_members, models.models
from families
cross join models
where families.family_members <> models.models

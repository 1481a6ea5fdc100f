{{ config(materialized='view') }}
select id, name, tier from {{ ref('customers') }}

{{ config(materialized='table') }}
select tier, count(*) as customers from {{ ref('stg_customers') }} group by tier

-- Downstream of customer_tiers, whose accepted_values test fails on purpose: `build` skips it.
{{ config(materialized='table') }}
select tier, customers from {{ ref('customer_tiers') }}

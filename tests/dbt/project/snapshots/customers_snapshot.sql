{% snapshot customers_snapshot %}
{{ config(target_schema=target.schema, unique_key='id', strategy='check', check_cols=['tier']) }}
select id, name, tier from {{ ref('customers') }}
{% endsnapshot %}

-- Sleeps var('sleep_seconds') seconds in the server: the SIGTERM test's long-running query.
{{ config(materialized='table') }}
select pg_sleep({{ var('sleep_seconds', 0) }}) is not null as slept

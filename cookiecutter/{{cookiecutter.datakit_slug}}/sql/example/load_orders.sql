-- Load the orders of :day (an example: generated rows instead of a real source).
DELETE FROM example_orders WHERE day = :'day';
INSERT INTO example_orders (order_id, day, amount)
SELECT (extract(epoch FROM :'day'::date)::bigint / 86400)::integer * 100 + n, :'day'::date, n * 10.5
FROM generate_series(1, 3) AS n;

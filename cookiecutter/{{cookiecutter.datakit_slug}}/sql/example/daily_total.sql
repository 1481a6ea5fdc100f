-- Recompute the total of :day.
INSERT INTO example_daily_total (day, orders, amount)
SELECT :'day'::date, count(*), coalesce(sum(amount), 0) FROM example_orders WHERE day = :'day'
ON CONFLICT (day) DO UPDATE SET orders = EXCLUDED.orders, amount = EXCLUDED.amount;

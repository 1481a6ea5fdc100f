-- Example tables (idempotent).
CREATE TABLE IF NOT EXISTS example_orders (
    order_id   integer PRIMARY KEY,
    day        date    NOT NULL,
    amount     numeric(12, 2) NOT NULL
);
CREATE TABLE IF NOT EXISTS example_daily_total (
    day        date PRIMARY KEY,
    orders     integer NOT NULL,
    amount     numeric(14, 2) NOT NULL
);

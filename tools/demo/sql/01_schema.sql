-- The demo's warehouse: a staging table loaded by COPY and a fact table merged from it.
CREATE TABLE IF NOT EXISTS staging_sales (
    sold_on date NOT NULL,
    store text NOT NULL,
    amount numeric(12, 2) NOT NULL
);
CREATE TABLE IF NOT EXISTS sales (
    sold_on date NOT NULL,
    store text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    loaded_by text NOT NULL
);
TRUNCATE staging_sales;

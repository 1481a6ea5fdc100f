-- Move one day of staged sales into the fact table; :'day' and :'run' come from -v.
DELETE FROM sales WHERE sold_on = :'day';
INSERT INTO sales (sold_on, store, amount, loaded_by)
SELECT sold_on, store, amount, :'run'
FROM staging_sales
WHERE sold_on = :'day';

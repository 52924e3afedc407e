-- Ranked search walks the names that start with a query in (name_key, id) order: the index
-- carries the id that breaks ties, so a page is read in index order without sorting the range.
DROP INDEX customers_by_name_key;
CREATE INDEX customers_by_name_key ON customers (name_key, id);

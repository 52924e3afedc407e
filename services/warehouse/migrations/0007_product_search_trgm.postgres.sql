-- Product search on PostgreSQL through a trigram index of the folded search text, so a search
-- (`search_text LIKE '%piece%'`) reads the index's matches instead of every product. SQLite
-- scans the catalog (a catalog is thousands of products, not millions of customers).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX products_search_trgm ON products USING gin (search_text gin_trgm_ops);

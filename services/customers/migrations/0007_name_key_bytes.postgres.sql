-- Ranked search reads the names that start with a query as a range of name keys, in byte
-- order on both backends (SQLite compares text by bytes): the key compares by bytes ("C")
-- here too, whatever the database's collation.
ALTER TABLE customers ALTER COLUMN name_key TYPE TEXT COLLATE "C";

-- The owner's department path (from identity: ids from the top of the tree down, `/d1/d7/`),
-- so department and department-tree scopes are a comparison on the row: `=` for a department,
-- a prefix for a tree. Empty for customers in the public pool.
ALTER TABLE customers ADD COLUMN owner_department_path TEXT NOT NULL DEFAULT '';
CREATE INDEX customers_owner_department ON customers (owner_department_path, name, id);

-- One database and one role per service: no service can read another's tables.
CREATE ROLE customers LOGIN PASSWORD 'crm-dev-only';
CREATE DATABASE customers OWNER customers;
CREATE ROLE identity LOGIN PASSWORD 'crm-dev-only';
CREATE DATABASE identity OWNER identity;
CREATE ROLE sales LOGIN PASSWORD 'crm-dev-only';
CREATE DATABASE sales OWNER sales;
CREATE ROLE warehouse LOGIN PASSWORD 'crm-dev-only';
CREATE DATABASE warehouse OWNER warehouse;

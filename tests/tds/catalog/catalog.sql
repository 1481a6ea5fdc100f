-- SQL Server's sys.* catalog views over pg_catalog, for the TDS test server (see catalog.py).
-- Installed once per database by the superuser under an advisory lock; run again (views
-- dropped and re-created, side tables kept) when this file changes.
--
-- tds_catalog holds what PostgreSQL cannot: the T-SQL type a column was declared with (PG keeps
-- datetime2(7) as timestamp(6)), default constraints' names and T-SQL text, temporal-table
-- links and extended properties. Side rows are keyed by (table oid, attnum) and, for types,
-- only used while the column still has the PostgreSQL type they were recorded against.

CREATE SCHEMA IF NOT EXISTS tds_catalog;
GRANT USAGE, CREATE ON SCHEMA tds_catalog TO PUBLIC;

CREATE TABLE IF NOT EXISTS tds_catalog.version (version text NOT NULL);

CREATE TABLE IF NOT EXISTS tds_catalog.column_types (
    relid oid NOT NULL,
    attnum int2 NOT NULL,
    type_name text NOT NULL,
    max_length int2 NOT NULL,
    "precision" int2 NOT NULL,
    scale int2 NOT NULL,
    pg_type oid NOT NULL,
    pg_typmod int4 NOT NULL,
    PRIMARY KEY (relid, attnum)
);

CREATE TABLE IF NOT EXISTS tds_catalog.default_constraints (
    relid oid NOT NULL,
    attnum int2 NOT NULL,
    name text NOT NULL,
    definition text NOT NULL,
    PRIMARY KEY (relid, attnum)
);

CREATE TABLE IF NOT EXISTS tds_catalog.temporal_tables (
    relid oid PRIMARY KEY,
    history_relid oid NOT NULL,
    start_column text NOT NULL,
    end_column text NOT NULL
);

CREATE TABLE IF NOT EXISTS tds_catalog.extended_properties (
    major_id oid NOT NULL,
    minor_id int4 NOT NULL,
    name text NOT NULL,
    value text,
    PRIMARY KEY (major_id, minor_id, name)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tds_catalog TO PUBLIC;

-- SQL Server fills a system-versioned table's period columns itself and keeps the old row
-- in the history table on UPDATE and DELETE, with ROW END = the change time (UTC). The
-- trigger's arguments: the history table's oid, the ROW START and ROW END column names.
CREATE OR REPLACE FUNCTION tds_catalog.system_versioning() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    history regclass := TG_ARGV[0]::oid::regclass;
    at timestamp := now() AT TIME ZONE 'UTC';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE format('INSERT INTO %s SELECT * FROM jsonb_populate_record(NULL::%s, $1)',
                       history, history)
            USING to_jsonb(OLD) || jsonb_build_object(TG_ARGV[2], at);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    NEW := jsonb_populate_record(NEW, jsonb_build_object(
        TG_ARGV[1], at, TG_ARGV[2], timestamp '9999-12-31 23:59:59.999999'));
    RETURN NEW;
END $$;

-- T-SQL's functions for defaults and trigger bodies, as SQL Server evaluates them
CREATE OR REPLACE FUNCTION tds_catalog.sysdatetimeoffset() RETURNS timestamptz
LANGUAGE sql STABLE AS 'SELECT now()';
CREATE OR REPLACE FUNCTION tds_catalog.sysdatetime() RETURNS timestamp
LANGUAGE sql STABLE AS 'SELECT localtimestamp';
CREATE OR REPLACE FUNCTION tds_catalog.getdate() RETURNS timestamp
LANGUAGE sql STABLE AS 'SELECT localtimestamp(3)';
CREATE OR REPLACE FUNCTION tds_catalog.sysutcdatetime() RETURNS timestamp
LANGUAGE sql STABLE AS $$SELECT now() AT TIME ZONE 'UTC'$$;
CREATE OR REPLACE FUNCTION tds_catalog.getutcdate() RETURNS timestamp
LANGUAGE sql STABLE AS $$SELECT (now() AT TIME ZONE 'UTC')::timestamp(3)$$;
CREATE OR REPLACE FUNCTION tds_catalog.newid() RETURNS uuid
LANGUAGE sql VOLATILE AS 'SELECT gen_random_uuid()';
CREATE OR REPLACE FUNCTION tds_catalog.suser_sname() RETURNS text
LANGUAGE sql STABLE AS 'SELECT session_user::text';

-- bit flags compare with integers in T-SQL (WHERE c.is_nullable = 1)
CREATE OR REPLACE FUNCTION tds_catalog.bit_eq(boolean, integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS 'SELECT $1 = ($2 <> 0)';
CREATE OR REPLACE FUNCTION tds_catalog.bit_ne(boolean, integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS 'SELECT $1 <> ($2 <> 0)';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_operator WHERE oprname = '='
                   AND oprleft = 'boolean'::regtype AND oprright = 'integer'::regtype) THEN
        CREATE OPERATOR public.= (LEFTARG = boolean, RIGHTARG = integer,
                                  FUNCTION = tds_catalog.bit_eq, NEGATOR = OPERATOR(public.<>));
        CREATE OPERATOR public.<> (LEFTARG = boolean, RIGHTARG = integer,
                                   FUNCTION = tds_catalog.bit_ne, NEGATOR = OPERATOR(public.=));
    END IF;
END $$;

DROP SCHEMA IF EXISTS sys CASCADE;
DROP VIEW IF EXISTS tds_catalog.index_ids, tds_catalog.column_types_v, tds_catalog.user_tables,
    tds_catalog.user_schemas CASCADE;
CREATE SCHEMA sys;
GRANT USAGE ON SCHEMA sys TO PUBLIC;

-- the schemas and tables of the user, not PostgreSQL's or this emulation's own
CREATE VIEW tds_catalog.user_schemas AS
SELECT n.oid, n.nspname
FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'tds_catalog', 'sys')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%';

CREATE VIEW tds_catalog.user_tables AS
SELECT c.oid, c.relname, c.relnamespace
FROM pg_class c JOIN tds_catalog.user_schemas s ON s.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p');

CREATE VIEW sys.types (name, system_type_id, user_type_id, schema_id, max_length, "precision",
                       scale, is_nullable, is_user_defined) AS
SELECT v.name, v.sid::int2, v.uid, 4, v.len::int2, v.p::int2, v.s::int2, true, false
FROM (VALUES
    ('bigint', 127, 127, 8, 19, 0), ('binary', 173, 173, 8000, 0, 0), ('bit', 104, 104, 1, 1, 0),
    ('char', 175, 175, 8000, 0, 0), ('date', 40, 40, 3, 10, 0), ('datetime', 61, 61, 8, 23, 3),
    ('datetime2', 42, 42, 8, 27, 7), ('datetimeoffset', 43, 43, 10, 34, 7),
    ('decimal', 106, 106, 17, 38, 38), ('float', 62, 62, 8, 53, 0), ('image', 34, 34, 16, 0, 0),
    ('int', 56, 56, 4, 10, 0), ('money', 60, 60, 8, 19, 4), ('nchar', 239, 239, 8000, 0, 0),
    ('ntext', 99, 99, 16, 0, 0), ('numeric', 108, 108, 17, 38, 38),
    ('nvarchar', 231, 231, 8000, 0, 0), ('real', 59, 59, 4, 24, 0),
    ('smalldatetime', 58, 58, 4, 16, 0), ('smallint', 52, 52, 2, 5, 0),
    ('smallmoney', 122, 122, 4, 10, 4), ('sql_variant', 98, 98, 8016, 0, 0),
    ('text', 35, 35, 16, 0, 0), ('time', 41, 41, 5, 16, 7), ('tinyint', 48, 48, 1, 3, 0),
    ('uniqueidentifier', 36, 36, 16, 0, 0), ('varbinary', 165, 165, 8000, 0, 0),
    ('varchar', 167, 167, 8000, 0, 0), ('xml', 241, 241, -1, 0, 0),
    ('sysname', 231, 256, 256, 0, 0)
) AS v (name, sid, uid, len, p, s);

-- each column's T-SQL type: as declared (side table) while PostgreSQL still has the type it
-- was recorded against, else derived from the PostgreSQL type
CREATE VIEW tds_catalog.column_types_v AS
SELECT a.attrelid, a.attnum,
       COALESCE(ct.type_name, d.type_name) AS type_name,
       COALESCE(ct.max_length, d.max_length) AS max_length,
       COALESCE(ct."precision", d."precision") AS "precision",
       COALESCE(ct.scale, d.scale) AS scale
FROM pg_attribute a
JOIN tds_catalog.user_tables t ON t.oid = a.attrelid
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN tds_catalog.column_types ct
       ON ct.relid = a.attrelid AND ct.attnum = a.attnum
      AND ct.pg_type = a.atttypid AND ct.pg_typmod = a.atttypmod
CROSS JOIN LATERAL (
    SELECT CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE a.atttypid END AS base,
           CASE WHEN ty.typtype = 'd' THEN ty.typtypmod ELSE a.atttypmod END AS typmod
) b
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN ty.typname ~ '^nvarchar_[0-9]+$' THEN 'nvarchar'
        WHEN b.base = 'int4'::regtype THEN 'int'
        WHEN b.base = 'int2'::regtype THEN 'smallint'
        WHEN b.base = 'int8'::regtype THEN 'bigint'
        WHEN b.base = 'numeric'::regtype THEN 'decimal'
        WHEN b.base = 'varchar'::regtype AND b.typmod >= 0 THEN 'varchar'
        WHEN b.base = 'bpchar'::regtype THEN 'char'
        WHEN b.base = 'bool'::regtype THEN 'bit'
        WHEN b.base = 'date'::regtype THEN 'date'
        WHEN b.base = 'time'::regtype THEN 'time'
        WHEN b.base = 'timestamp'::regtype THEN 'datetime2'
        WHEN b.base = 'timestamptz'::regtype THEN 'datetimeoffset'
        WHEN b.base = 'uuid'::regtype THEN 'uniqueidentifier'
        WHEN b.base = 'bytea'::regtype THEN 'varbinary'
        WHEN b.base = 'float8'::regtype THEN 'float'
        WHEN b.base = 'float4'::regtype THEN 'real'
        WHEN b.base = 'money'::regtype THEN 'money'
        ELSE 'nvarchar' END AS type_name,
        CASE WHEN b.base = 'timestamp'::regtype OR b.base = 'timestamptz'::regtype
             THEN CASE WHEN b.typmod < 0 THEN 6 ELSE b.typmod END END AS fraction,
        CASE WHEN b.base = 'numeric'::regtype
             THEN CASE WHEN b.typmod < 0 THEN 18 ELSE ((b.typmod - 4) >> 16) & 65535 END
        END AS num_p
) n
CROSS JOIN LATERAL (
    SELECT n.type_name,
        (CASE n.type_name
            WHEN 'nvarchar' THEN CASE WHEN ty.typname ~ '^nvarchar_[0-9]+$'
                                      THEN 2 * substring(ty.typname FROM 10)::int ELSE -1 END
            WHEN 'varchar' THEN b.typmod - 4
            WHEN 'char' THEN b.typmod - 4
            WHEN 'int' THEN 4 WHEN 'smallint' THEN 2 WHEN 'bigint' THEN 8 WHEN 'bit' THEN 1
            WHEN 'decimal' THEN CASE WHEN n.num_p <= 9 THEN 5 WHEN n.num_p <= 19 THEN 9
                                     WHEN n.num_p <= 28 THEN 13 ELSE 17 END
            WHEN 'date' THEN 3 WHEN 'time' THEN 5
            WHEN 'datetime2' THEN CASE WHEN n.fraction < 3 THEN 6 WHEN n.fraction < 5 THEN 7 ELSE 8 END
            WHEN 'datetimeoffset' THEN CASE WHEN n.fraction < 3 THEN 8 WHEN n.fraction < 5 THEN 9
                                            ELSE 10 END
            WHEN 'uniqueidentifier' THEN 16 WHEN 'varbinary' THEN -1
            WHEN 'float' THEN 8 WHEN 'real' THEN 4 WHEN 'money' THEN 8
            ELSE -1 END)::int2 AS max_length,
        (CASE n.type_name
            WHEN 'int' THEN 10 WHEN 'smallint' THEN 5 WHEN 'bigint' THEN 19 WHEN 'bit' THEN 1
            WHEN 'decimal' THEN n.num_p WHEN 'date' THEN 10 WHEN 'time' THEN 16
            WHEN 'datetime2' THEN 19 + CASE WHEN n.fraction > 0 THEN n.fraction + 1 ELSE 0 END
            WHEN 'datetimeoffset' THEN 26 + CASE WHEN n.fraction > 0 THEN n.fraction + 1 ELSE 0 END
            WHEN 'float' THEN 53 WHEN 'real' THEN 24 WHEN 'money' THEN 19
            ELSE 0 END)::int2 AS "precision",
        (CASE n.type_name
            WHEN 'decimal' THEN CASE WHEN b.typmod < 0 THEN 0 ELSE (b.typmod - 4) & 65535 END
            WHEN 'datetime2' THEN n.fraction WHEN 'datetimeoffset' THEN n.fraction
            WHEN 'time' THEN 6 WHEN 'money' THEN 4
            ELSE 0 END)::int2 AS scale
) d
WHERE a.attnum > 0 AND NOT a.attisdropped;

CREATE VIEW sys.schemas (name, schema_id, principal_id) AS
SELECT CASE n.nspname WHEN 'public' THEN 'dbo' WHEN 'information_schema' THEN 'INFORMATION_SCHEMA'
       ELSE n.nspname::text END,
       n.oid::integer, 1
FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'pg_toast', 'tds_catalog')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%';

CREATE VIEW sys.tables (object_id, name, schema_id, type, type_desc, is_ms_shipped,
                        temporal_type, temporal_type_desc, history_table_id) AS
SELECT t.oid::integer, t.relname::text, t.relnamespace::integer, 'U', 'USER_TABLE', false,
       (CASE WHEN cur.relid IS NOT NULL THEN 2 WHEN hist.relid IS NOT NULL THEN 1 ELSE 0 END)::int2,
       CASE WHEN cur.relid IS NOT NULL THEN 'SYSTEM_VERSIONED_TEMPORAL_TABLE'
            WHEN hist.relid IS NOT NULL THEN 'HISTORY_TABLE' ELSE 'NON_TEMPORAL_TABLE' END,
       cur.history_relid::integer
FROM tds_catalog.user_tables t
LEFT JOIN tds_catalog.temporal_tables cur ON cur.relid = t.oid
LEFT JOIN tds_catalog.temporal_tables hist ON hist.history_relid = t.oid;

CREATE VIEW sys.objects (object_id, name, schema_id, type, type_desc, parent_object_id) AS
SELECT object_id, name, schema_id, type, type_desc, 0 FROM sys.tables;

CREATE VIEW sys.columns (object_id, name, column_id, system_type_id, user_type_id, max_length,
                         "precision", scale, is_nullable, is_identity, is_computed,
                         generated_always_type, generated_always_type_desc, default_object_id) AS
SELECT a.attrelid::integer, a.attname::text, a.attnum::integer, ty.system_type_id,
       ty.user_type_id, ct.max_length, ct."precision", ct.scale, NOT a.attnotnull,
       a.attidentity <> '', a.attgenerated <> '',
       (CASE a.attname::text WHEN tt.start_column THEN 1 WHEN tt.end_column THEN 2 ELSE 0 END)::int2,
       CASE a.attname::text WHEN tt.start_column THEN 'AS_ROW_START'
            WHEN tt.end_column THEN 'AS_ROW_END' ELSE 'NOT_APPLICABLE' END,
       COALESCE(ad.oid::integer, 0)
FROM pg_attribute a
JOIN tds_catalog.column_types_v ct ON ct.attrelid = a.attrelid AND ct.attnum = a.attnum
JOIN sys.types ty ON ty.name = ct.type_name AND ty.user_type_id = ty.system_type_id
LEFT JOIN tds_catalog.temporal_tables tt ON tt.relid = a.attrelid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum;

CREATE VIEW sys.default_constraints (object_id, name, schema_id, parent_object_id,
                                     parent_column_id, type, type_desc, definition) AS
SELECT ad.oid::integer, COALESCE(dc.name, 'DF__' || t.relname || '__' || a.attname),
       t.relnamespace::integer, ad.adrelid::integer, ad.adnum::integer, 'D',
       'DEFAULT_CONSTRAINT',
       COALESCE(dc.definition, '(' || pg_get_expr(ad.adbin, ad.adrelid) || ')')
FROM pg_attrdef ad
JOIN tds_catalog.user_tables t ON t.oid = ad.adrelid
JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
LEFT JOIN tds_catalog.default_constraints dc ON dc.relid = ad.adrelid AND dc.attnum = ad.adnum;

-- a clustered index (the primary key, or one marked with CLUSTER ON) is index 1; the others
-- follow from 2; a table without a clustered index also has its heap, index 0 of type 0
CREATE VIEW tds_catalog.index_ids AS
SELECT i.indexrelid, i.indrelid, i.indisprimary OR i.indisclustered AS clustered,
       CASE WHEN i.indisprimary OR i.indisclustered THEN 1
            ELSE 1 + row_number() OVER (PARTITION BY i.indrelid, i.indisprimary OR i.indisclustered
                                        ORDER BY i.indexrelid) END AS index_id
FROM pg_index i JOIN tds_catalog.user_tables t ON t.oid = i.indrelid;

CREATE VIEW sys.indexes (object_id, name, index_id, type, type_desc, is_unique, is_primary_key,
                         is_unique_constraint, data_space_id, is_disabled) AS
SELECT i.indrelid::integer, c.relname::text, x.index_id::integer,
       (CASE WHEN x.clustered THEN 1 ELSE 2 END)::int2,
       CASE WHEN x.clustered THEN 'CLUSTERED' ELSE 'NONCLUSTERED' END,
       i.indisunique, i.indisprimary,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid
                 AND k.conindid = i.indexrelid AND k.contype = 'u'),
       1, false
FROM pg_index i
JOIN tds_catalog.index_ids x ON x.indexrelid = i.indexrelid
JOIN pg_class c ON c.oid = i.indexrelid
UNION ALL
SELECT t.oid::integer, NULL, 0, 0::int2, 'HEAP', false, false, false, 1, false
FROM tds_catalog.user_tables t
WHERE NOT EXISTS (SELECT 1 FROM tds_catalog.index_ids x WHERE x.indrelid = t.oid AND x.clustered);

CREATE VIEW sys.index_columns (object_id, index_id, index_column_id, column_id, key_ordinal,
                               is_descending_key, is_included_column) AS
SELECT i.indrelid::integer, x.index_id::integer, k.n::integer, k.attnum::integer,
       CASE WHEN k.n <= i.indnkeyatts THEN k.n ELSE 0 END::integer,
       (i.indoption[k.n - 1] & 1) = 1, k.n > i.indnkeyatts
FROM pg_index i
JOIN tds_catalog.index_ids x ON x.indexrelid = i.indexrelid
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, n)
WHERE k.attnum > 0;

CREATE VIEW sys.foreign_keys (object_id, name, schema_id, parent_object_id, referenced_object_id,
                              type, type_desc, delete_referential_action,
                              delete_referential_action_desc, update_referential_action,
                              update_referential_action_desc, is_disabled) AS
SELECT k.oid::integer, k.conname::text, k.connamespace::integer, k.conrelid::integer,
       k.confrelid::integer, 'F', 'FOREIGN_KEY_CONSTRAINT',
       (CASE k.confdeltype WHEN 'c' THEN 1 WHEN 'n' THEN 2 WHEN 'd' THEN 3 ELSE 0 END)::int2,
       CASE k.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET_NULL'
            WHEN 'd' THEN 'SET_DEFAULT' ELSE 'NO_ACTION' END,
       (CASE k.confupdtype WHEN 'c' THEN 1 WHEN 'n' THEN 2 WHEN 'd' THEN 3 ELSE 0 END)::int2,
       CASE k.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET_NULL'
            WHEN 'd' THEN 'SET_DEFAULT' ELSE 'NO_ACTION' END,
       false
FROM pg_constraint k JOIN tds_catalog.user_tables t ON t.oid = k.conrelid
WHERE k.contype = 'f';

CREATE VIEW sys.foreign_key_columns (constraint_object_id, constraint_column_id,
                                     parent_object_id, parent_column_id, referenced_object_id,
                                     referenced_column_id) AS
SELECT k.oid::integer, c.n::integer, k.conrelid::integer, c.parent::integer,
       k.confrelid::integer, c.referenced::integer
FROM pg_constraint k
JOIN tds_catalog.user_tables t ON t.oid = k.conrelid
CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS c (parent, referenced, n)
WHERE k.contype = 'f';

CREATE VIEW sys.triggers (object_id, name, parent_class, parent_class_desc, parent_id, type,
                          type_desc, is_disabled, is_instead_of_trigger) AS
SELECT g.oid::integer, g.tgname::text, 1::int2, 'OBJECT_OR_COLUMN', g.tgrelid::integer, 'TR',
       'SQL_TRIGGER', g.tgenabled = 'D', false
FROM pg_trigger g
JOIN tds_catalog.user_tables t ON t.oid = g.tgrelid
WHERE NOT g.tgisinternal AND g.tgfoid <> 'tds_catalog.system_versioning'::regproc;

CREATE VIEW sys.extended_properties (class, class_desc, major_id, minor_id, name, value) AS
SELECT 1::int2, 'OBJECT_OR_COLUMN', e.major_id::integer, e.minor_id, e.name, e.value
FROM tds_catalog.extended_properties e
JOIN tds_catalog.user_tables t ON t.oid = e.major_id
WHERE e.minor_id = 0 OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = e.major_id
                                  AND a.attnum = e.minor_id AND NOT a.attisdropped);

GRANT SELECT ON ALL TABLES IN SCHEMA sys TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA tds_catalog TO PUBLIC;

-- Who may see what: accounts, grants scoped by code prefix, tokens, the audit log, the
-- non-superuser role the service runs as, and row-level security on the register.
--
-- The service opens each request's transaction with SET LOCAL ROLE gridmap_app and
-- set_config('gridmap.user_id', <id>, true); the policies below read that setting (through
-- SECURITY DEFINER functions that look the user's grants up), so a query that forgets a filter
-- still returns only the rows of the acting user's grids. The owner (migrations, CLI, tests that
-- connect as the owner) is not subject to RLS: no FORCE ROW LEVEL SECURITY.

-- The role the service runs as. Roles are per cluster: another database may have made it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gridmap_app') THEN
        CREATE ROLE gridmap_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object THEN NULL;  -- a parallel migration of another database made it
END $$;
-- SET ROLE needs membership; a superuser has it implicitly, a plain owner must be granted it.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT gridmap_app TO %I', current_user);
    END IF;
END $$;

-- Accounts (用户) and their roles. A grant is (role, scope): the scope is a code prefix,
-- '' = everything, 6 digits a district (区县), 9 a street (街道), 12 a community, 15 a grid.
CREATE TABLE app_role (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO app_role VALUES
    ('admin', '管理员', 'street or district administrator'),
    ('grid_worker', '网格员', 'grid worker, scoped to the grids served'),
    ('inspector', '督查', 'inspector: places, schools, the perimeter check, inspections'),
    ('planner', '创建办/城管', 'planner: roads, units, assignments'),
    ('viewer', '查看', 'viewer: maps and statistics without personal data');

CREATE TABLE app_user (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    full_name     text,
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2%'),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_grant (
    user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    role    text   NOT NULL REFERENCES app_role (code),
    scope   text   NOT NULL DEFAULT '' CHECK (scope ~ '^([1-9][0-9]{5}([0-9]{3}([0-9]{3}([0-9]{3})?)?)?)?$'),
    -- a grid worker (网格员) serves grids: never a street or everything
    CONSTRAINT grid_worker_scope_is_a_grid CHECK (role <> 'grid_worker' OR length(scope) = 15),
    PRIMARY KEY (user_id, role, scope)
);

-- Opaque bearer tokens: only a keyed hash is stored, so a copy of this table logs nobody in.
CREATE TABLE auth_token (
    token_hash bytea PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    client     text
);
CREATE INDEX auth_token_user_idx ON auth_token (user_id);

-- The audit log (审计日志): append-only. who (user, database role), what (action, object, ids),
-- when, from where (client address). Rows are stamped by a trigger from the transaction's
-- settings, so a caller cannot back-date them or claim another user.
CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id    bigint,  -- no foreign key: the log outlives the accounts it names
    username   text,
    db_role    text NOT NULL DEFAULT current_user,
    client     text,
    action     text NOT NULL CHECK (action IN ('read', 'export', 'insert', 'update', 'delete')),
    object     text NOT NULL,
    object_ids bigint[],
    row_count  integer,
    detail     jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, at);

-- The acting user of this transaction, or NULL (nobody: sees no register rows).
CREATE FUNCTION access_user_id() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~ '^[0-9]{1,18}$' THEN s::bigint END
    FROM (SELECT current_setting('gridmap.user_id', true) AS s) setting
$$;

-- The scopes (code prefixes) the acting user holds for any of these roles, if the account is active.
CREATE FUNCTION access_scopes(roles text[]) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(DISTINCT g.scope), '{}')
    FROM user_grant g JOIN app_user u ON u.id = g.user_id
    WHERE u.id = access_user_id() AND u.active AND g.role = ANY (roles)
$$;

CREATE FUNCTION access_any(roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT cardinality(access_scopes(roles)) > 0
$$;

CREATE FUNCTION access_all(roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT '' = ANY (access_scopes(roles))
$$;

-- The grid codes under the acting user's scopes for these roles. The policies call it as
-- `grid_code = ANY ((SELECT access_grids(...))::text[])`: the scalar subquery is an InitPlan, run once
-- per statement; a query filtering on grid_code keeps its index scan.
CREATE FUNCTION access_grids(roles text[]) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(g.code), '{}')
    FROM grid g
    WHERE EXISTS (SELECT 1 FROM unnest(access_scopes(roles)) s WHERE s <> '' AND starts_with(g.code, s))
$$;

-- The households (and their persons) under the acting user's scopes for these roles; households
-- outside every grid count for admins. Looked up as the owner, through the grid_code and
-- household_id indexes: the policies of person and key_person test membership in these sets
-- (a hashed subplan, built once per statement) instead of scanning the parent table under its own
-- policy for every statement.
CREATE FUNCTION access_households(roles text[]) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT h.id FROM household h WHERE h.grid_code = ANY (access_grids(roles))
    UNION ALL
    SELECT h.id FROM household h WHERE h.grid_code IS NULL AND access_any('{admin}')
$$;

CREATE FUNCTION access_persons(roles text[]) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT p.id FROM person p WHERE p.household_id IN (SELECT access_households(roles))
$$;

-- Register rows: read by admins, grid workers and viewers of the grid (viewers are kept to counts by
-- the API's route policy); written by admins and grid workers of the grid. Households outside every
-- grid (grid_code NULL) belong to the admins. Key persons (重点人员): workers of the grid and admins.
--
-- Shapes chosen for the planner (measured in tests/access/bench_rls.py): SELECT has a policy of its
-- own (a FOR ALL write policy would be OR-ed into every read); "sees everything" comes first, so for
-- an admin of everything the rest is never evaluated; child tables test `key IN (SELECT access_...())`,
-- which runs once per statement as a hashed subplan instead of once per row.
ALTER TABLE household ENABLE ROW LEVEL SECURITY;
ALTER TABLE person ENABLE ROW LEVEL SECURITY;
ALTER TABLE key_person ENABLE ROW LEVEL SECURITY;
ALTER TABLE grid_worker ENABLE ROW LEVEL SECURITY;
ALTER TABLE grid_worker_grid ENABLE ROW LEVEL SECURITY;

CREATE POLICY household_read ON household FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker,viewer}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker,viewer}'))::text[])
    OR (grid_code IS NULL AND (SELECT access_any('{admin}'))));
CREATE POLICY household_insert ON household FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND (SELECT access_any('{admin}'))));
CREATE POLICY household_update ON household FOR UPDATE TO gridmap_app
USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND (SELECT access_any('{admin}'))))
WITH CHECK (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND (SELECT access_any('{admin}'))));
CREATE POLICY household_delete ON household FOR DELETE TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND (SELECT access_any('{admin}'))));

-- A person is visible (writable) when their household is.
CREATE POLICY person_read ON person FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker,viewer}'))
    OR household_id IN (SELECT access_households('{admin,grid_worker,viewer}')));
CREATE POLICY person_insert ON person FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_all('{admin,grid_worker}'))
    OR household_id IN (SELECT access_households('{admin,grid_worker}')));
CREATE POLICY person_update ON person FOR UPDATE TO gridmap_app
USING ((SELECT access_all('{admin,grid_worker}'))
       OR household_id IN (SELECT access_households('{admin,grid_worker}')))
WITH CHECK ((SELECT access_all('{admin,grid_worker}'))
            OR household_id IN (SELECT access_households('{admin,grid_worker}')));
CREATE POLICY person_delete ON person FOR DELETE TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR household_id IN (SELECT access_households('{admin,grid_worker}')));

-- Key persons: the same rule for reading and writing, so one FOR ALL policy; no viewer.
CREATE POLICY key_person_access ON key_person FOR ALL TO gridmap_app
USING ((SELECT access_all('{admin,grid_worker}'))
       OR person_id IN (SELECT access_persons('{admin,grid_worker}')))
WITH CHECK ((SELECT access_all('{admin,grid_worker}'))
            OR person_id IN (SELECT access_persons('{admin,grid_worker}')));

-- Who serves which grid: visible with the grid; changed by the grid's admins.
CREATE POLICY grid_worker_grid_read ON grid_worker_grid FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker,viewer}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker,viewer}'))::text[]));
CREATE POLICY grid_worker_grid_write ON grid_worker_grid FOR ALL TO gridmap_app
USING ((SELECT access_all('{admin}')) OR grid_code = ANY ((SELECT access_grids('{admin}'))::text[]))
WITH CHECK ((SELECT access_all('{admin}')) OR grid_code = ANY ((SELECT access_grids('{admin}'))::text[]));

-- A worker is visible with one of their grids; admins see (and keep) the whole directory.
CREATE POLICY grid_worker_read ON grid_worker FOR SELECT TO gridmap_app USING (
    (SELECT access_any('{admin}'))
    OR id IN (SELECT wg.worker_id FROM grid_worker_grid wg));
CREATE POLICY grid_worker_write ON grid_worker FOR ALL TO gridmap_app
USING ((SELECT access_any('{admin}'))) WITH CHECK ((SELECT access_any('{admin}')));

-- The audit log is append-only for everyone, the owner included: rows are stamped on the way in,
-- and UPDATE, DELETE and TRUNCATE are refused by triggers (the app role also lacks the privileges).
-- Not SECURITY DEFINER: current_user must be the role that acted, not the function's owner.
CREATE FUNCTION audit_log_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    NEW.at := clock_timestamp();
    NEW.db_role := CASE WHEN current_user = session_user THEN current_user
                        ELSE session_user || ' as ' || current_user END;
    NEW.user_id := access_user_id();
    NEW.username := (SELECT u.username FROM app_user u WHERE u.id = NEW.user_id);
    NEW.client := nullif(current_setting('gridmap.client', true), '');
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_stamp BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_stamp();

CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

-- Every change to personal data: one audit row per statement (not per row, so a COPY of 100k
-- persons costs one insert), with the ids it touched, read from the statement's transition table.
-- TG_ARGV[0] is the key column. A transition table serves one event only: three triggers per table.
CREATE FUNCTION audit_register_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT array_agg(%I ORDER BY %I) FROM old_rows', TG_ARGV[0], TG_ARGV[0]) INTO ids;
    ELSE
        EXECUTE format('SELECT array_agg(%I ORDER BY %I) FROM new_rows', TG_ARGV[0], TG_ARGV[0]) INTO ids;
    END IF;
    IF ids IS NOT NULL THEN
        INSERT INTO audit_log (action, object, object_ids, row_count)
        VALUES (lower(TG_OP), TG_TABLE_NAME, ids, cardinality(ids));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER household_audit_insert AFTER INSERT ON household REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('id');
CREATE TRIGGER household_audit_update AFTER UPDATE ON household REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('id');
CREATE TRIGGER household_audit_delete AFTER DELETE ON household REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('id');
CREATE TRIGGER person_audit_insert AFTER INSERT ON person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('id');
CREATE TRIGGER person_audit_update AFTER UPDATE ON person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('id');
CREATE TRIGGER person_audit_delete AFTER DELETE ON person REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('id');
CREATE TRIGGER key_person_audit_insert AFTER INSERT ON key_person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('person_id');
CREATE TRIGGER key_person_audit_update AFTER UPDATE ON key_person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('person_id');
CREATE TRIGGER key_person_audit_delete AFTER DELETE ON key_person REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_change('person_id');

-- TRUNCATE (the demo's --replace) empties a table without row triggers: logged as one delete.
CREATE FUNCTION audit_register_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO audit_log (action, object, detail) VALUES ('delete', TG_TABLE_NAME, '{"truncate": true}');
    RETURN NULL;
END $$;
CREATE TRIGGER household_audit_truncate AFTER TRUNCATE ON household
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_truncate();
CREATE TRIGGER person_audit_truncate AFTER TRUNCATE ON person
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_truncate();
CREATE TRIGGER key_person_audit_truncate AFTER TRUNCATE ON key_person
    FOR EACH STATEMENT EXECUTE FUNCTION audit_register_truncate();

-- Rebuilding the grid index (the importer does it before re-placing households: a sorted build
-- halves the lookups) is the owner's privilege in PostgreSQL 15; the service role may ask for it.
CREATE FUNCTION grid_geom_reindex() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    REINDEX INDEX grid_geom_idx;
END $$;

-- What the service role may do: read and write the data, nothing structural. Tables made by later
-- migrations (run by the same owner) get the same privileges through the default privileges.
GRANT USAGE ON SCHEMA public TO gridmap_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO gridmap_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO gridmap_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO gridmap_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO gridmap_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO gridmap_app;
REVOKE INSERT, UPDATE, DELETE ON schema_migration FROM gridmap_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM gridmap_app;
-- Vocabularies of access are data the service reads, not edits.
REVOKE INSERT, UPDATE, DELETE ON app_role FROM gridmap_app;

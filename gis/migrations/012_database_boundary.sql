-- The database as a boundary (defence in depth): requests log in as gridmap_app, a role that is not a
-- superuser and cannot become one, instead of the owner switching role per transaction; accounts and
-- tokens are out of its reach except through SECURITY DEFINER functions with narrow jobs; the acting
-- user is derived from the request's token, which that role cannot forge; the audit log is scoped to
-- the admin reading it and records refused and failed attempts.
--
-- The owner (migrations, the CLI, tests that connect as the owner) keeps its rights as before.

-- The service logs in as gridmap_app itself. It is a member of no role, so neither RESET ROLE nor SET
-- ROLE leads anywhere else; without SUPERUSER (or pg_execute_server_program) COPY ... TO PROGRAM and
-- server files are refused. Its password (for servers reached over TCP) is set by `gridmap db migrate`.
-- (Only a superuser may even name SUPERUSER, REPLICATION or BYPASSRLS in ALTER ROLE: they are checked.)
ALTER ROLE gridmap_app LOGIN NOCREATEDB NOCREATEROLE;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gridmap_app'
               AND (rolsuper OR rolreplication OR rolbypassrls OR rolcreaterole OR rolcreatedb))
       OR EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
                  WHERE r.rolname = 'gridmap_app') THEN
        RAISE EXCEPTION 'role gridmap_app must be a plain role, a member of no other role';
    END IF;
END $$;

-- Nothing but the owner creates objects in the schema (databases made before PostgreSQL 15 still let
-- PUBLIC create there): no function of the login role's can shadow one the definers call.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Accounts, grants and tokens: no direct access at all for the service.
REVOKE ALL ON app_user, user_grant, auth_token FROM gridmap_app;
REVOKE ALL ON SEQUENCE app_user_id_seq FROM gridmap_app;

-- The bearer token of this transaction's request: the keyed hash (hex) the service computed from it.
CREATE FUNCTION access_token_hash() RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~ '^[0-9a-f]{64}$' THEN decode(s, 'hex') END
    FROM (SELECT current_setting('gridmap.token_hash', true) AS s) setting
$$;

-- Whether this session logged in as the owner of the accounts (or a superuser): the CLI and tests
-- connected as the owner may name the user directly; the service's login role never can.
CREATE FUNCTION access_owner_session() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT pg_has_role(session_user, c.relowner, 'MEMBER')
    FROM pg_class c WHERE c.oid = 'public.auth_token'::regclass
$$;

-- The acting user: the owner of a live token (not expired, not revoked, account active) whose hash the
-- request set in gridmap.token_hash. gridmap.user_id is believed only in a session of the owner's.
-- SECURITY DEFINER: the service cannot read auth_token; session_user stays the role that logged in.
CREATE OR REPLACE FUNCTION access_user_id() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT coalesce(
        (SELECT t.user_id FROM auth_token t JOIN app_user u ON u.id = t.user_id AND u.active
         WHERE t.token_hash = access_token_hash() AND t.revoked_at IS NULL AND t.expires_at > now()),
        (SELECT CASE WHEN s ~ '^[0-9]{1,18}$' AND access_owner_session() THEN s::bigint END
         FROM (SELECT current_setting('gridmap.user_id', true) AS s) setting))
$$;

-- Signing in, in two steps, so the service never sees a stored password hash: it asks for the salt and
-- parameters of the user's argon2 hash (never the digest), computes the hash of the password it was
-- given with them, and hands that in; the comparison happens here, and only a match issues a token.
-- NULL for an unknown user (the service then hashes against a dummy, so timing tells nothing).
CREATE FUNCTION access_password_salt(name text, OUT salt text, OUT digest_length integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT substring(u.password_hash FROM '^(.*)\$[^$]*$'), length(substring(u.password_hash FROM '\$([^$]*)$'))
    FROM app_user u WHERE u.username = name
$$;

-- A token for a verified password: stores the token's keyed hash for the account, returns when it
-- expires; NULL (and no token) for a wrong password, an unknown name or a disabled account.
CREATE FUNCTION access_sign_in(name text, candidate_hash text, new_token_hash bytea, ttl interval,
                               client text) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint;
    expires timestamptz;
BEGIN
    SELECT u.id INTO uid FROM app_user u
    WHERE u.username = name AND u.active AND u.password_hash = candidate_hash;
    IF uid IS NULL OR length(new_token_hash) <> 32 OR ttl > interval '30 days' THEN
        RETURN NULL;
    END IF;
    INSERT INTO auth_token (token_hash, user_id, expires_at, client)
    VALUES (new_token_hash, uid, now() + ttl, client) RETURNING expires_at INTO expires;
    RETURN expires;
END $$;

-- The user a live token belongs to, with their grants (role and scope, in matching order).
CREATE FUNCTION access_authenticate(presented_hash bytea)
RETURNS TABLE (user_id bigint, username text, roles text[], scopes text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.id, u.username,
           coalesce(array_agg(g.role ORDER BY g.role, g.scope) FILTER (WHERE g.role IS NOT NULL), '{}'),
           coalesce(array_agg(g.scope ORDER BY g.role, g.scope) FILTER (WHERE g.role IS NOT NULL), '{}')
    FROM auth_token t
    JOIN app_user u ON u.id = t.user_id AND u.active
    LEFT JOIN user_grant g ON g.user_id = u.id
    WHERE t.token_hash = presented_hash AND t.revoked_at IS NULL AND t.expires_at > now()
    GROUP BY u.id
$$;

-- Signing out: revokes the token whose hash is presented (knowing the hash means holding the token).
CREATE FUNCTION access_sign_out(presented_hash bytea) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH revoked AS (
        UPDATE auth_token SET revoked_at = now()
        WHERE token_hash = presented_hash AND revoked_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM revoked)
$$;

-- The audit log ------------------------------------------------------------------------------------
-- Attempts are recorded as well as what succeeded: a refusal (403) and a failed sign-in.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (action IN ('read', 'export', 'insert', 'update', 'delete', 'refused', 'sign_in_failed'));
-- What an entry is about, for scoping who may read it: area = the community and grid codes it
-- concerns; actor_scopes = the scopes of the acting user's grants when they acted (the scopes of the
-- account tried, for a failed sign-in). Entries from before this migration have neither: only admins
-- of everything read them.
ALTER TABLE audit_log ADD COLUMN area text[], ADD COLUMN actor_scopes text[];

-- The acting user, their name and the scopes of their grants (none: all NULL).
CREATE FUNCTION audit_actor(OUT user_id bigint, OUT username text, OUT scopes text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.id, u.username, (SELECT array_agg(DISTINCT g.scope) FROM user_grant g WHERE g.user_id = u.id)
    FROM (SELECT access_user_id() AS id) acting LEFT JOIN app_user u ON u.id = acting.id
$$;

-- The scopes of the grants of the account with this name (a failed sign-in is about that account).
CREATE FUNCTION audit_account_scopes(name text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT array_agg(DISTINCT g.scope) FROM user_grant g JOIN app_user u ON u.id = g.user_id
    WHERE u.username = name
$$;

CREATE OR REPLACE FUNCTION audit_log_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    NEW.at := clock_timestamp();
    NEW.db_role := CASE WHEN current_user = session_user THEN current_user
                        ELSE session_user || ' as ' || current_user END;
    SELECT a.user_id, a.username, a.scopes INTO NEW.user_id, NEW.username, NEW.actor_scopes FROM audit_actor() a;
    NEW.client := nullif(current_setting('gridmap.client', true), '');
    NEW.area := (SELECT array_agg(DISTINCT c ORDER BY c) FROM unnest(NEW.area) c WHERE c ~ '^[0-9]{6,15}$');
    IF NEW.action = 'sign_in_failed' THEN
        NEW.actor_scopes := audit_account_scopes(NEW.detail ->> 'username');
    END IF;
    RETURN NEW;
END $$;

-- The grid codes of register rows (households, persons, key persons by person id), read as the owner:
-- the row may be out of the acting role's sight by the time its change is logged.
CREATE FUNCTION audit_area_of(tbl text, ids bigint[]) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT array_agg(DISTINCT h.grid_code ORDER BY h.grid_code)
    FROM household h
    WHERE h.grid_code IS NOT NULL
      AND h.id IN (SELECT i FROM unnest(ids) i WHERE tbl = 'household'
                   UNION ALL
                   SELECT p.household_id FROM person p WHERE tbl <> 'household' AND p.id = ANY (ids))
$$;

CREATE OR REPLACE FUNCTION audit_register_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    ids bigint[];
    area text[];
    changed text := CASE WHEN TG_OP = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END;
BEGIN
    EXECUTE format('SELECT array_agg(%I ORDER BY %I) FROM %I', TG_ARGV[0], TG_ARGV[0], changed) INTO ids;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'household' THEN  -- a deleted household is gone: its grid is in the transition table
        EXECUTE format('SELECT array_agg(DISTINCT grid_code) FROM %I WHERE grid_code IS NOT NULL', changed)
            INTO area;
    ELSE
        area := audit_area_of(TG_TABLE_NAME, ids);
    END IF;
    INSERT INTO audit_log (action, object, object_ids, row_count, area)
    VALUES (lower(TG_OP), TG_TABLE_NAME, ids, cardinality(ids), area);
    RETURN NULL;
END $$;

-- Every code of the array lies under one of the scopes (an empty or NULL array: no).
CREATE FUNCTION audit_codes_within(codes text[], scopes text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT cardinality(codes) > 0 AND NOT EXISTS (
        SELECT 1 FROM unnest(codes) c WHERE NOT EXISTS (SELECT 1 FROM unnest(scopes) s WHERE starts_with(c, s)))
$$;

-- Who reads which entries: an admin of everything all of them; an admin of a scope the entries about
-- objects in it and those of users whose grants all lie in it; nobody else any. The service appends
-- (stamped by the trigger) and reads through these policies; change and removal stay refused to all.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON audit_log FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin}'))
    OR audit_codes_within(area, (SELECT access_scopes('{admin}')))
    OR audit_codes_within(actor_scopes, (SELECT access_scopes('{admin}'))));
CREATE POLICY audit_log_append ON audit_log FOR INSERT TO gridmap_app WITH CHECK (true);

-- The definers above run for the service; nobody else needs them.
REVOKE EXECUTE ON FUNCTION access_password_salt(text), access_sign_in(text, text, bytea, interval, text),
    access_authenticate(bytea), access_sign_out(bytea), audit_actor(), audit_account_scopes(text),
    audit_area_of(text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_token_hash(), access_owner_session(), access_password_salt(text),
    access_sign_in(text, text, bytea, interval, text), access_authenticate(bytea), access_sign_out(bytea),
    audit_actor(), audit_account_scopes(text), audit_area_of(text, bigint[]),
    audit_codes_within(text[], text[]) TO gridmap_app;

-- Users and grants (用户与授权) managed by admins through the service, within their own scope.
--
-- The service's role still has no access to app_user, user_grant or auth_token (migration 012): these
-- SECURITY DEFINER functions are its only way in. Each acts for the acting user (access_user_id(), from
-- the request's token) and only when that user is an admin whose admin scopes cover the target:
--   * a user is manageable when every one of its grants lies within one of the admin's admin scopes,
--     and is not another admin of that scope or above (a peer: a password reset would take the peer's
--     account over); an admin grant is given only strictly inside the acting admin's scope;
--     a user without any grant only by an admin of everything (so a user is created with a first grant,
--     and its last grant cannot be revoked: disable the account instead);
--   * a grant's scope must lie within the admin's scope; a grid worker's must be an existing grid, a
--     community scope an existing community;
--   * an admin may not disable themselves or revoke their own last admin grant.
-- Refusals raise with SQLSTATEs gis/access/administration.py maps to HTTP statuses:
--   42501 insufficient_privilege -> 403, P0002 no_data_found -> 404 (DETAIL names what: user, grid,
--   community, grant; HINT its key), 23505 unique_violation and 55000 object_not_in_prerequisite_state
--   -> 409,
--   22023 invalid_parameter_value -> 422 (COLUMN names the field).
-- Every change is appended to audit_log, its area the scopes of the target's grants (so an admin of
-- that scope reads it; migration 012's policy); the trigger stamps the acting admin. Password hashes are
-- made by the service (argon2, as accounts.hash_password) and never written anywhere but app_user.

-- The acting user's admin scopes; refused (42501) when they hold no admin grant (or are disabled).
CREATE FUNCTION admin_scopes_or_refuse() RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    scopes text[] := access_scopes('{admin}');
BEGIN
    IF cardinality(scopes) = 0 THEN
        RAISE EXCEPTION 'managing users needs the admin role' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN scopes;
END $$;

-- Whether a scope ('' = everything, or a code prefix) lies within one of these scopes.
CREATE FUNCTION admin_within(scope text, scopes text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(scopes) s WHERE starts_with(scope, s))
$$;

-- Whether the acting admin (of these scopes) manages user ``uid``: an admin of everything every user;
-- an admin of a scope the users whose grants all lie within it, except other admins of that scope or
-- above (a peer's password reset would be a take-over of the peer's account). Themselves they manage.
CREATE FUNCTION admin_may_manage(uid bigint, scopes text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT '' = ANY (scopes) OR (
        EXISTS (SELECT 1 FROM user_grant g WHERE g.user_id = uid)
        AND NOT EXISTS (SELECT 1 FROM user_grant g WHERE g.user_id = uid AND NOT admin_within(g.scope, scopes))
        AND (uid = access_user_id() OR NOT EXISTS (
            SELECT 1 FROM user_grant g WHERE g.user_id = uid AND g.role = 'admin'
              AND NOT EXISTS (SELECT 1 FROM unnest(scopes) s
                              WHERE starts_with(g.scope, s) AND length(g.scope) > length(s)))))
$$;

-- The id of the user with this name if the acting admin (of these scopes) may manage them, locked for
-- the change; else 404 (a user outside the scope is not said to exist).
CREATE FUNCTION admin_target(name text, scopes text[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint;
BEGIN
    SELECT u.id INTO uid FROM app_user u WHERE u.username = name FOR UPDATE;
    IF uid IS NULL OR NOT admin_may_manage(uid, scopes) THEN
        RAISE EXCEPTION 'user % not found', quote_literal(name)
            USING ERRCODE = 'no_data_found', DETAIL = 'user', HINT = name;
    END IF;
    RETURN uid;
END $$;

-- A grant the acting admin (of these scopes) may give: a known role, a well-formed scope within theirs,
-- a grid worker's an existing grid, a community scope an existing community.
CREATE FUNCTION admin_check_grant(grant_role text, grant_scope text, scopes text[]) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF grant_role IS NULL OR NOT EXISTS (SELECT 1 FROM app_role r WHERE r.code = grant_role) THEN
        RAISE EXCEPTION 'must be one of %', (SELECT string_agg(code, ', ' ORDER BY code) FROM app_role)
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'role';
    END IF;
    IF grant_scope IS NULL OR grant_scope !~ '^([1-9][0-9]{5}([0-9]{3}([0-9]{3}([0-9]{3})?)?)?)?$' THEN
        RAISE EXCEPTION ''''' (everything) or a 6, 9, 12 or 15-digit code'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'scope';
    END IF;
    IF grant_role = 'grid_worker' AND length(grant_scope) <> 15 THEN
        RAISE EXCEPTION 'a grid worker (网格员) is granted grids: a 15-digit grid code'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'scope';
    END IF;
    IF NOT admin_within(grant_scope, scopes) THEN
        RAISE EXCEPTION 'scope % is outside your scope', coalesce(nullif(grant_scope, ''), '(everything)')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF grant_role = 'admin' AND NOT '' = ANY (scopes) AND NOT EXISTS (
            SELECT 1 FROM unnest(scopes) s WHERE starts_with(grant_scope, s) AND length(grant_scope) > length(s)) THEN
        RAISE EXCEPTION 'an admin is granted a scope inside yours, not yours itself (that admin would be your peer)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF length(grant_scope) = 15 AND NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = grant_scope) THEN
        RAISE EXCEPTION 'grid % not found', grant_scope
            USING ERRCODE = 'no_data_found', DETAIL = 'grid', HINT = grant_scope;
    END IF;
    IF length(grant_scope) = 12 AND NOT EXISTS (SELECT 1 FROM community c WHERE c.code = grant_scope) THEN
        RAISE EXCEPTION 'community % not found', grant_scope
            USING ERRCODE = 'no_data_found', DETAIL = 'community', HINT = grant_scope;
    END IF;
END $$;

-- One audit entry about user ``uid``: its area the scopes of the user's grants now and ``extra_scope``
-- (a revoked grant's); the trigger keeps the codes, stamps the acting admin, time and client.
CREATE FUNCTION admin_audit(act text, tbl text, uid bigint, detail jsonb, extra_scope text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO audit_log (action, object, object_ids, row_count, detail, area)
    VALUES (act, tbl, ARRAY[uid], 1, detail,
            ARRAY(SELECT g.scope FROM user_grant g WHERE g.user_id = uid
                  UNION SELECT extra_scope WHERE extra_scope IS NOT NULL))
$$;

-- The users the acting admin may manage, by name (exact) or a search in name and full name; each with
-- its grants (role, scope, in order) and its last sign-in.
CREATE FUNCTION admin_users(search text, exact_name text)
RETURNS TABLE (id bigint, username text, full_name text, active boolean, created_at timestamptz,
               last_sign_in timestamptz, grants jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH admin AS (SELECT admin_scopes_or_refuse() AS scopes)
    SELECT u.id, u.username, u.full_name, u.active, u.created_at,
           (SELECT max(t.issued_at) FROM auth_token t WHERE t.user_id = u.id), coalesce(g.grants, '[]')
    FROM admin CROSS JOIN app_user u
    LEFT JOIN LATERAL (
        SELECT jsonb_agg(jsonb_build_object('role', ug.role, 'scope', ug.scope) ORDER BY ug.role, ug.scope)
                   AS grants
        FROM user_grant ug WHERE ug.user_id = u.id) g ON true
    WHERE admin_may_manage(u.id, admin.scopes)
      AND (exact_name IS NULL OR u.username = exact_name)
      AND (coalesce(search, '') = ''
           OR strpos(u.username, lower(search)) > 0 OR strpos(lower(coalesce(u.full_name, '')), lower(search)) > 0)
    ORDER BY u.username
$$;

-- A new user with a first grant. The password arrives hashed (argon2).
CREATE FUNCTION admin_user_create(name text, new_full_name text, new_password_hash text, grant_role text,
                                  grant_scope text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    scopes text[] := admin_scopes_or_refuse();
    uid bigint;
BEGIN
    IF name IS NULL OR name !~ '^[a-z0-9][a-z0-9._-]{1,62}$' THEN
        RAISE EXCEPTION '2-63 characters: lower-case letters, digits, ''.'', ''_'', ''-'''
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'username';
    END IF;
    IF new_password_hash IS NULL OR new_password_hash NOT LIKE '$argon2%' THEN
        RAISE EXCEPTION 'must be hashed with argon2 by the service'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'password';
    END IF;
    IF length(new_full_name) > 200 THEN
        RAISE EXCEPTION 'must be at most 200 characters' USING ERRCODE = 'invalid_parameter_value',
            COLUMN = 'full_name';
    END IF;
    PERFORM admin_check_grant(grant_role, grant_scope, scopes);
    INSERT INTO app_user (username, full_name, password_hash)
    VALUES (name, nullif(btrim(new_full_name), ''), new_password_hash)
    ON CONFLICT (username) DO NOTHING RETURNING id INTO uid;
    IF uid IS NULL THEN
        RAISE EXCEPTION 'user % exists already', quote_literal(name)
            USING ERRCODE = 'unique_violation', COLUMN = 'username';
    END IF;
    INSERT INTO user_grant (user_id, role, scope) VALUES (uid, grant_role, grant_scope);
    PERFORM admin_audit('insert', 'app_user', uid,
                        jsonb_build_object('username', name, 'role', grant_role, 'scope', grant_scope), NULL);
    RETURN uid;
END $$;

-- Enable or disable a user (disabling revokes their tokens), and change their full name ('' clears it);
-- NULL leaves a field as it is.
CREATE FUNCTION admin_user_update(name text, new_active boolean, new_full_name text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint := admin_target(name, admin_scopes_or_refuse());
    was_active boolean;
BEGIN
    IF length(new_full_name) > 200 THEN
        RAISE EXCEPTION 'must be at most 200 characters' USING ERRCODE = 'invalid_parameter_value',
            COLUMN = 'full_name';
    END IF;
    IF new_active IS FALSE AND uid = access_user_id() THEN
        RAISE EXCEPTION 'you cannot disable your own account' USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT u.active INTO was_active FROM app_user u WHERE u.id = uid;
    UPDATE app_user u SET active = coalesce(new_active, u.active),
                          full_name = CASE WHEN new_full_name IS NULL THEN u.full_name
                                           ELSE nullif(btrim(new_full_name), '') END
    WHERE u.id = uid;
    IF new_active IS FALSE THEN
        UPDATE auth_token t SET revoked_at = now() WHERE t.user_id = uid AND t.revoked_at IS NULL;
    END IF;
    PERFORM admin_audit('update', 'app_user', uid,
                        jsonb_strip_nulls(jsonb_build_object(
                            'username', name,
                            'active', CASE WHEN new_active IS DISTINCT FROM was_active THEN new_active END,
                            'full_name', CASE WHEN new_full_name IS NOT NULL THEN 'changed' END)), NULL);
END $$;

-- A new password (hashed by the service); the user's tokens are revoked: every session signs in again.
CREATE FUNCTION admin_user_password(name text, new_password_hash text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint := admin_target(name, admin_scopes_or_refuse());
BEGIN
    IF new_password_hash IS NULL OR new_password_hash NOT LIKE '$argon2%' THEN
        RAISE EXCEPTION 'must be hashed with argon2 by the service'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'password';
    END IF;
    -- written first: an admin resetting their own password acts for nobody once their token is revoked
    PERFORM admin_audit('update', 'app_user', uid, jsonb_build_object('username', name, 'password', 'reset'),
                        NULL);
    UPDATE app_user u SET password_hash = new_password_hash WHERE u.id = uid;
    UPDATE auth_token t SET revoked_at = now() WHERE t.user_id = uid AND t.revoked_at IS NULL;
END $$;

-- Give a role over a scope; true if it is new (a grant held already is no change and no entry).
CREATE FUNCTION admin_user_grant(name text, grant_role text, grant_scope text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    scopes text[] := admin_scopes_or_refuse();
    uid bigint := admin_target(name, scopes);
    added integer;
BEGIN
    PERFORM admin_check_grant(grant_role, grant_scope, scopes);
    INSERT INTO user_grant (user_id, role, scope) VALUES (uid, grant_role, grant_scope) ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 THEN
        PERFORM admin_audit('insert', 'user_grant', uid,
                            jsonb_build_object('username', name, 'role', grant_role, 'scope', grant_scope), NULL);
    END IF;
    RETURN added > 0;
END $$;

-- Take a grant back. Not the user's last one (disable the account instead: a user without grants is
-- out of every scoped admin's reach), and not the acting admin's own last admin grant.
CREATE FUNCTION admin_user_revoke(name text, grant_role text, grant_scope text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint := admin_target(name, admin_scopes_or_refuse());
BEGIN
    IF NOT EXISTS (SELECT 1 FROM user_grant g WHERE g.user_id = uid AND g.role = grant_role
                   AND g.scope = grant_scope) THEN
        RAISE EXCEPTION 'grant % over % not found', grant_role, quote_literal(grant_scope)
            USING ERRCODE = 'no_data_found', DETAIL = 'grant',
                  HINT = grant_role || ' over ' || coalesce(nullif(grant_scope, ''), '(everything)');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM user_grant g WHERE g.user_id = uid
                   AND (g.role, g.scope) IS DISTINCT FROM (grant_role, grant_scope)) THEN
        RAISE EXCEPTION 'this is the user''s last grant: disable the account instead'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF uid = access_user_id() AND grant_role = 'admin' AND NOT EXISTS (
            SELECT 1 FROM user_grant g WHERE g.user_id = uid AND g.role = 'admin' AND g.scope <> grant_scope) THEN
        RAISE EXCEPTION 'you cannot revoke your own last admin grant'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    DELETE FROM user_grant g WHERE g.user_id = uid AND g.role = grant_role AND g.scope = grant_scope;
    PERFORM admin_audit('delete', 'user_grant', uid,
                        jsonb_build_object('username', name, 'role', grant_role, 'scope', grant_scope), grant_scope);
END $$;

-- The service calls the six entry points; the helpers run only inside them (as the owner).
REVOKE EXECUTE ON FUNCTION admin_scopes_or_refuse(), admin_within(text, text[]), admin_may_manage(bigint, text[]),
    admin_target(text, text[]),
    admin_check_grant(text, text, text[]), admin_audit(text, text, bigint, jsonb, text),
    admin_users(text, text), admin_user_create(text, text, text, text, text),
    admin_user_update(text, boolean, text), admin_user_password(text, text),
    admin_user_grant(text, text, text), admin_user_revoke(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_users(text, text), admin_user_create(text, text, text, text, text),
    admin_user_update(text, boolean, text), admin_user_password(text, text),
    admin_user_grant(text, text, text), admin_user_revoke(text, text, text) TO gridmap_app;

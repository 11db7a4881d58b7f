-- Who acted (issue 14): every field record names the signed-in account that wrote it, stamped here from
-- the request's token (audit_actor(), migration 012) whatever the statement says, as visits (020) and
-- person moves (014) are. And the links an admin makes between accounts and what they act as: a grid
-- worker record (grid_worker.user_id, 021) and a responsible unit (unit_account, 021).
--
-- Who may be nobody: a session of the owner's (the CLI, migrations, tests connected as the owner) with
-- no user named writes what the statement says, with no account (actor_user_id NULL): `gridmap check`
-- run by the operator, or a perimeter check scheduled by cron, is recorded as 'check'. The service's
-- login role always needs a signed-in user: a write without one is refused (42501).

-- The signed-in account beside each record; the older text names stay (the lists and exports show them)
-- but are overwritten with the account's username when there is one.
ALTER TABLE inspection ADD COLUMN actor_user_id bigint, ADD COLUMN actor_username text;
ALTER TABLE violation_event ADD COLUMN actor_user_id bigint, ADD COLUMN actor_username text;
ALTER TABLE road_section_assignment ADD COLUMN actor_user_id bigint, ADD COLUMN actor_username text;
-- (no foreign keys: records outlive the accounts that wrote them, as visits do)

-- Stamps actor_user_id/actor_username from the acting user; TG_ARGV[0] names the row's text column that
-- names who acted (inspector, actor), set to the username too. The perimeter check's own events say
-- 'check (username)': the check found it, the user ran it; a text beginning otherwise is the user alone.
CREATE FUNCTION actor_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint;
    uname text;
    name_column text := TG_ARGV[0];
    stamped jsonb;
BEGIN
    SELECT a.user_id, a.username INTO uid, uname FROM audit_actor() a;
    IF uid IS NULL THEN
        IF NOT access_owner_session() THEN
            RAISE EXCEPTION '% needs a signed-in user', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END IF;
        stamped := jsonb_build_object('actor_user_id', NULL, 'actor_username', NULL);
    ELSE
        stamped := jsonb_build_object('actor_user_id', uid, 'actor_username', uname);
        IF name_column IS NOT NULL THEN
            stamped := stamped || jsonb_build_object(name_column,
                CASE WHEN name_column = 'actor' AND (to_jsonb(NEW) ->> name_column) LIKE 'check%'
                     THEN 'check (' || uname || ')' ELSE uname END);
        END IF;
    END IF;
    NEW := jsonb_populate_record(NEW, stamped);
    RETURN NEW;
END $$;
CREATE TRIGGER inspection_actor BEFORE INSERT ON inspection
    FOR EACH ROW EXECUTE FUNCTION actor_stamp('inspector');
CREATE TRIGGER violation_event_actor BEFORE INSERT ON violation_event
    FOR EACH ROW EXECUTE FUNCTION actor_stamp('actor');
CREATE TRIGGER road_section_assignment_actor BEFORE INSERT ON road_section_assignment
    FOR EACH ROW EXECUTE FUNCTION actor_stamp();
-- Who recorded a row stays who recorded it: the service cannot rewrite the stamp afterwards (closing an
-- assignment's period, the only update the service makes, leaves it alone).
REVOKE UPDATE (actor_user_id, actor_username) ON inspection, violation_event, road_section_assignment
    FROM gridmap_app;
REVOKE UPDATE ON inspection, violation_event FROM gridmap_app;
GRANT UPDATE (place_id, inspected_at, result, note, photo) ON inspection TO gridmap_app;
REVOKE UPDATE ON road_section_assignment FROM gridmap_app;
GRANT UPDATE (section_id, unit_id, valid, duty_day, note) ON road_section_assignment TO gridmap_app;

-- The links ----------------------------------------------------------------------------------------
-- Who linked and when, beside each link.
ALTER TABLE grid_worker ADD COLUMN linked_by_id bigint, ADD COLUMN linked_by text, ADD COLUMN linked_at timestamptz;
ALTER TABLE unit_account ADD COLUMN linked_by_id bigint, ADD COLUMN linked_by text,
    ADD COLUMN linked_at timestamptz NOT NULL DEFAULT clock_timestamp();

-- Whether this statement runs inside one of the owner's SECURITY DEFINER functions (or a session of
-- the owner's): the service's own statements run as gridmap_app.
CREATE FUNCTION access_as_owner() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT pg_has_role(current_user, c.relowner, 'MEMBER')
    FROM pg_class c WHERE c.oid = 'public.auth_token'::regclass
$$;

-- A worker's account is set only through admin_worker_link/unlink below (the service may otherwise
-- write grid_worker: names, phones): a direct change of user_id by the service is refused, and every
-- change is stamped with who made it.
CREATE FUNCTION grid_worker_link_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id THEN
        NEW.linked_by_id := OLD.linked_by_id; NEW.linked_by := OLD.linked_by; NEW.linked_at := OLD.linked_at;
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND NEW.user_id IS NULL THEN
        NEW.linked_by_id := NULL; NEW.linked_by := NULL; NEW.linked_at := NULL;
        RETURN NEW;
    END IF;
    IF NOT access_as_owner() THEN
        RAISE EXCEPTION 'a grid worker''s account is linked by an admin (PUT /grid-workers/{id}/account)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT a.user_id, a.username INTO NEW.linked_by_id, NEW.linked_by FROM audit_actor() a;
    NEW.linked_at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER grid_worker_link_stamp BEFORE INSERT OR UPDATE ON grid_worker
    FOR EACH ROW EXECUTE FUNCTION grid_worker_link_stamp();

CREATE FUNCTION unit_account_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    SELECT a.user_id, a.username INTO NEW.linked_by_id, NEW.linked_by FROM audit_actor() a;
    NEW.linked_at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER unit_account_stamp BEFORE INSERT OR UPDATE ON unit_account
    FOR EACH ROW EXECUTE FUNCTION unit_account_stamp();

-- One audit entry about a link: object and ids as given, area the account's grant scopes and ``codes``
-- (the worker's grids); the trigger stamps the acting admin.
CREATE FUNCTION admin_link_audit(act text, tbl text, ids bigint[], uid bigint, detail jsonb, codes text[])
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO audit_log (action, object, object_ids, row_count, detail, area)
    VALUES (act, tbl, ids, 1, detail,
            ARRAY(SELECT g.scope FROM user_grant g WHERE g.user_id = uid
                  UNION SELECT c FROM unnest(codes) c))
$$;

-- The grid worker ``worker`` locked for a change by the acting admin (of these scopes), with its grids:
-- 404 if there is none; refused unless every grid it serves lies within the admin's scopes (a worker
-- serving no grid: an admin of everything only).
CREATE FUNCTION admin_worker_target(worker bigint, scopes text[], OUT linked bigint, OUT grids text[])
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    SELECT w.user_id INTO linked FROM grid_worker w WHERE w.id = worker FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'grid worker % not found', worker
            USING ERRCODE = 'no_data_found', DETAIL = 'grid worker', HINT = worker::text;
    END IF;
    grids := ARRAY(SELECT wg.grid_code FROM grid_worker_grid wg WHERE wg.worker_id = worker ORDER BY 1);
    IF NOT ('' = ANY (scopes) OR (cardinality(grids) > 0 AND NOT EXISTS (
            SELECT 1 FROM unnest(grids) g WHERE NOT admin_within(g, scopes)))) THEN
        RAISE EXCEPTION 'grid worker % serves grids outside your scope', worker
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

-- Link grid worker ``worker`` to the account ``name``: the admin's scope covers the worker's grids and
-- the account is theirs to manage (admin_may_manage, 013) and holds a grid worker grant. An account
-- is some worker's at most once (409). True if it changed.
CREATE FUNCTION admin_worker_link(worker bigint, name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    scopes text[] := admin_scopes_or_refuse();
    target record := admin_worker_target(worker, scopes);
    uid bigint := admin_target(name, scopes);
    other bigint;
BEGIN
    IF target.linked IS NOT DISTINCT FROM uid THEN
        RETURN false;
    END IF;
    IF target.linked IS NOT NULL AND NOT admin_may_manage(target.linked, scopes) THEN
        RAISE EXCEPTION 'grid worker % is linked to an account outside your scope', worker
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM user_grant g WHERE g.user_id = uid AND g.role = 'grid_worker') THEN
        RAISE EXCEPTION 'user % holds no grid worker (网格员) grant: grant the role first', quote_literal(name)
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT w.id INTO other FROM grid_worker w WHERE w.user_id = uid;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'user % is linked to grid worker % already', quote_literal(name), other
            USING ERRCODE = 'unique_violation';
    END IF;
    UPDATE grid_worker w SET user_id = uid WHERE w.id = worker;
    PERFORM admin_link_audit('update', 'grid_worker', ARRAY[worker], uid,
                             jsonb_build_object('username', name, 'account', 'linked'), target.grids);
    RETURN true;
END $$;

-- Unlink grid worker ``worker`` from its account (the same rules); true if it had one.
CREATE FUNCTION admin_worker_unlink(worker bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    scopes text[] := admin_scopes_or_refuse();
    target record := admin_worker_target(worker, scopes);
BEGIN
    IF target.linked IS NULL THEN
        RETURN false;
    END IF;
    IF NOT admin_may_manage(target.linked, scopes) THEN
        RAISE EXCEPTION 'grid worker % is linked to an account outside your scope', worker
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM admin_link_audit('update', 'grid_worker', ARRAY[worker], target.linked,
                             jsonb_build_object('username', (SELECT u.username FROM app_user u
                                                             WHERE u.id = target.linked),
                                                'account', 'unlinked'), target.grids);
    UPDATE grid_worker w SET user_id = NULL WHERE w.id = worker;
    RETURN true;
END $$;

-- Link the account ``name`` to responsible unit ``unit`` (replacing its unit): the account is the
-- admin's to manage and holds the unit (责任单位) role (409 otherwise). True if it changed.
CREATE FUNCTION admin_unit_link(name text, unit bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint := admin_target(name, admin_scopes_or_refuse());
    changed integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM responsible_unit r WHERE r.id = unit) THEN
        RAISE EXCEPTION 'responsible unit % not found', unit
            USING ERRCODE = 'no_data_found', DETAIL = 'responsible unit', HINT = unit::text;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM user_grant g WHERE g.user_id = uid AND g.role = 'unit') THEN
        RAISE EXCEPTION 'user % holds no unit (责任单位) grant: grant the role first', quote_literal(name)
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    INSERT INTO unit_account (user_id, unit_id) VALUES (uid, unit)
    ON CONFLICT (user_id) DO UPDATE SET unit_id = EXCLUDED.unit_id
        WHERE unit_account.unit_id <> EXCLUDED.unit_id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM admin_link_audit('update', 'unit_account', ARRAY[uid], uid,
                                 jsonb_build_object('username', name, 'unit_id', unit), '{}');
    END IF;
    RETURN changed > 0;
END $$;

-- Unlink the account ``name`` from its unit; true if it had one.
CREATE FUNCTION admin_unit_unlink(name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint := admin_target(name, admin_scopes_or_refuse());
    gone bigint;
BEGIN
    DELETE FROM unit_account ua WHERE ua.user_id = uid RETURNING ua.unit_id INTO gone;
    IF gone IS NOT NULL THEN
        PERFORM admin_link_audit('delete', 'unit_account', ARRAY[uid], uid,
                                 jsonb_build_object('username', name, 'unit_id', gone), '{}');
    END IF;
    RETURN gone IS NOT NULL;
END $$;

-- What the account ``name`` (the acting admin's to manage) is linked to: its grid worker record and
-- its unit, each with who linked it and when (no rows' worth of NULLs: one row always).
CREATE FUNCTION admin_user_links(name text)
RETURNS TABLE (worker_id bigint, worker_name text, worker_linked_by text, worker_linked_at timestamptz,
               unit_id bigint, unit_name text, unit_linked_by text, unit_linked_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    scopes text[] := admin_scopes_or_refuse();
    uid bigint;
BEGIN
    SELECT u.id INTO uid FROM app_user u WHERE u.username = name;
    IF uid IS NULL OR NOT admin_may_manage(uid, scopes) THEN
        RAISE EXCEPTION 'user % not found', quote_literal(name)
            USING ERRCODE = 'no_data_found', DETAIL = 'user', HINT = name;
    END IF;
    RETURN QUERY
    SELECT w.id, w.name, w.linked_by, w.linked_at, r.id, r.name, ua.linked_by, ua.linked_at
    FROM (SELECT 1) one
    LEFT JOIN grid_worker w ON w.user_id = uid
    LEFT JOIN unit_account ua ON ua.user_id = uid
    LEFT JOIN responsible_unit r ON r.id = ua.unit_id;
END $$;

-- The account of each grid worker of ``ids`` serving a grid the acting user reads: whether it has one, and its
-- username only for an admin who may manage that account (a grid worker's colleagues see "has one").
CREATE FUNCTION grid_worker_accounts(ids bigint[])
RETURNS TABLE (worker_id bigint, has_account boolean, username text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH admin AS (SELECT access_scopes('{admin}') AS scopes)
    SELECT w.id, w.user_id IS NOT NULL,
           CASE WHEN w.user_id IS NOT NULL AND cardinality(admin.scopes) > 0
                     AND admin_may_manage(w.user_id, admin.scopes) THEN u.username END
    FROM admin CROSS JOIN grid_worker w LEFT JOIN app_user u ON u.id = w.user_id
    WHERE w.id = ANY (ids)
      -- a worker serving a grid the caller reads (grid_worker_grid's policy, 005): an admin of a street
      -- is not told about the accounts of another street's workers
      AND ((SELECT access_all('{admin,grid_worker,viewer}'))
           OR EXISTS (SELECT 1 FROM grid_worker_grid wg WHERE wg.worker_id = w.id
                      AND wg.grid_code = ANY ((SELECT access_grids('{admin,grid_worker,viewer}'))::text[])))
$$;

REVOKE EXECUTE ON FUNCTION actor_stamp(), access_as_owner(), grid_worker_link_stamp(), unit_account_stamp(),
    admin_link_audit(text, text, bigint[], bigint, jsonb, text[]), admin_worker_target(bigint, text[]),
    admin_worker_link(bigint, text), admin_worker_unlink(bigint), admin_unit_link(text, bigint),
    admin_unit_unlink(text), admin_user_links(text), grid_worker_accounts(bigint[]) FROM PUBLIC;
-- The triggers run as the writer (gridmap_app or the owner): they need the stamp and the guard.
GRANT EXECUTE ON FUNCTION actor_stamp(), access_as_owner(), grid_worker_link_stamp(), unit_account_stamp()
    TO gridmap_app;
GRANT EXECUTE ON FUNCTION admin_worker_link(bigint, text), admin_worker_unlink(bigint),
    admin_unit_link(text, bigint), admin_unit_unlink(text), admin_user_links(text),
    grid_worker_accounts(bigint[]) TO gridmap_app;

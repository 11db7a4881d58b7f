-- Reports of uncivil behaviour (不文明行为, issue 14): a category, a position, a description, photos and
-- the reporter (stamped from the request's token, never typed). On arrival each report is routed to its
-- owner (report_owners below, one statement for a whole batch) and then follows a workflow whose every
-- step is an append-only event: new → accepted | rejected | duplicate → dispatched → signed → handled
-- → verified → closed, a unit may return (退回) a dispatched or signed report with a reason from a list,
-- and the dispatcher overrules the return or dispatches elsewhere.
--
-- Who may take each step is decided here, in report_transition() (SECURITY DEFINER): the service has
-- no UPDATE on report and no UPDATE or DELETE on report_event.

CREATE TABLE report_state (
    code     text PRIMARY KEY,
    name_zh  text NOT NULL,
    name_en  text NOT NULL,
    open     boolean NOT NULL,  -- Open311 status: open / closed; duplicate suggestions look at open ones
    ordinal  smallint NOT NULL UNIQUE
);
INSERT INTO report_state VALUES
    ('new', '新上报', 'new', true, 1),
    ('accepted', '已受理', 'accepted', true, 2),
    ('rejected', '不予受理', 'rejected', false, 3),
    ('duplicate', '重复上报', 'duplicate', false, 4),
    ('dispatched', '已派遣', 'dispatched', true, 5),
    ('returned', '已退回', 'returned to the dispatcher', true, 6),
    ('signed', '已签收', 'signed for', true, 7),
    ('handled', '已处置', 'handled', true, 8),
    ('verified', '已核查', 'verified', false, 9),
    ('closed', '已办结', 'closed', false, 10);

-- handler 'street': a matter of the road (门前三包), routed to the unit holding the nearest section;
-- 'grid': a matter of the neighbourhood, routed to the grid's worker. Deadlines in working days
-- (Chinese public holidays and adjusted working days, gis/reports/deadlines.py).
CREATE TABLE report_category (
    code                 text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name_zh              text NOT NULL UNIQUE,
    name_en              text NOT NULL,
    handler              text NOT NULL CHECK (handler IN ('street', 'grid')),
    deadline_accept_days smallint NOT NULL CHECK (deadline_accept_days BETWEEN 0 AND 60),
    deadline_handle_days smallint NOT NULL CHECK (deadline_handle_days BETWEEN 1 AND 120)
);
-- The seed's list (城市管理"十禁止", 门前三包, 禁烟) and the usual 陋习 of a 文明城市 campaign.
INSERT INTO report_category VALUES
    ('litter', '乱扔垃圾', 'littering', 'street', 1, 2),
    ('jaywalking', '乱穿马路', 'jaywalking', 'street', 1, 3),
    ('street_vending', '占道经营', 'occupying the road to trade', 'street', 1, 3),
    ('illegal_parking', '车辆乱停乱放', 'illegal parking', 'street', 1, 2),
    ('graffiti', '乱贴乱画', 'posters and graffiti', 'street', 1, 3),
    ('clutter', '乱堆乱放', 'goods and rubbish piled in public space', 'street', 1, 3),
    ('hanging', '乱吊乱挂', 'things hung from trees and railings', 'street', 1, 3),
    ('climbing_railing', '翻越护栏', 'climbing road railings', 'street', 1, 3),
    ('spitting', '随地吐痰', 'spitting', 'street', 1, 2),
    ('vandalism', '破坏公物', 'damaging public property', 'street', 1, 5),
    ('smoking', '公共场所吸烟', 'smoking in a public place', 'grid', 1, 3),
    ('illegal_building', '乱搭乱建', 'unauthorised building', 'grid', 2, 10),
    ('noise', '噪音扰民', 'noise nuisance', 'grid', 1, 3),
    ('dog_unleashed', '遛狗不拴绳', 'dog off the lead', 'grid', 1, 3),
    ('high_throw', '高空抛物', 'throwing things from a height', 'grid', 1, 5);

-- Why a unit returns a report (退回原因): a unit may return only with one of these.
CREATE TABLE report_return_reason (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name_zh text NOT NULL UNIQUE,
    name_en text NOT NULL
);
INSERT INTO report_return_reason VALUES
    ('not_our_section', '不在本单位责任路段', 'not on a section this unit holds'),
    ('not_our_duty', '非本单位职责', 'not this unit''s duty'),
    ('wrong_position', '位置不准确', 'the position is wrong'),
    ('duplicate', '重复上报', 'reported twice'),
    ('incomplete', '信息不全', 'too little information'),
    ('not_found_on_site', '现场未发现', 'nothing found on site');

CREATE TABLE report (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the 6-digit county (区县) of the report's area: the distribution key of a later Citus
    county         text NOT NULL CHECK (county ~ '^[1-9][0-9]{5}$'),
    category       text NOT NULL REFERENCES report_category (code),
    position       geometry(Point, 4326) NOT NULL,  -- WGS 84, converted from GCJ-02/BD-09 on the way in
    position_crs   text NOT NULL CHECK (position_crs IN ('EPSG:4326', 'GCJ-02', 'BD-09')),  -- as sent
    description    text CHECK (length(description) <= 2000),
    reporter_id    bigint NOT NULL,  -- the signed-in user (no foreign key: reports outlive accounts)
    reporter       text NOT NULL,    -- their username then
    client_id      text NOT NULL CHECK (client_id ~ '^[A-Za-z0-9._:-]{8,64}$'),
    reported_at    timestamptz NOT NULL,  -- when the phone saw it (it may post later, offline)
    report_day     date NOT NULL,         -- that day in China: the day the routing looks at
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    state          text NOT NULL DEFAULT 'new' REFERENCES report_state (code),
    duplicate_of   bigint REFERENCES report (id),
    -- the owner: a unit (unit_id), a grid's workers (grid_code), a community's queue (community_code)
    -- or, for a point outside every community, the street (街道) of the nearest community
    -- (community_code = that community; its 9-digit street prefix is the queue)
    owner_kind     text NOT NULL CHECK (owner_kind IN ('unit', 'grid', 'community', 'street')),
    unit_id        bigint,  -- no foreign key: the evidence outlives a unit
    grid_code      text,
    community_code text NOT NULL,
    -- the community the point lies in, else the nearest: whose admins' scopes the report falls under
    area_code      text NOT NULL CHECK (area_code ~ '^[1-9][0-9]{11}$'),
    -- routing evidence, as found on arrival (kept when a dispatcher changes the owner)
    routed_rule    text NOT NULL CHECK (routed_rule IN ('section', 'grid', 'community', 'nearest_community')),
    routed_grid    text,       -- the grid containing the point (lowest code on a border)
    routed_section bigint,     -- the nearest live section within 30 m, if any
    routed_section_m double precision CHECK (routed_section_m >= 0),  -- metres on the ellipsoid
    routed_assignment bigint,  -- its assignment on report_day, if any
    routed_valid   daterange,  -- that assignment's period
    routed_unit    bigint,
    accept_by      date NOT NULL,
    handle_by      date NOT NULL,
    handled_by     bigint,     -- the account that marked it handled: it may not verify it
    CONSTRAINT report_client_once UNIQUE (reporter_id, client_id),
    CONSTRAINT report_owner_shape CHECK (
        (owner_kind = 'unit') = (unit_id IS NOT NULL) AND (owner_kind <> 'grid' OR grid_code IS NOT NULL)),
    CONSTRAINT report_duplicate_shape CHECK ((state = 'duplicate') = (duplicate_of IS NOT NULL))
);
CREATE INDEX report_geog_idx ON report USING gist ((position::geography));
CREATE INDEX report_area_idx ON report (area_code, state);
CREATE INDEX report_grid_idx ON report (routed_grid);
CREATE INDEX report_owner_grid_idx ON report (grid_code) WHERE owner_kind = 'grid';
CREATE INDEX report_unit_idx ON report (unit_id) WHERE owner_kind = 'unit';
CREATE INDEX report_reported_at_idx ON report (reported_at);

-- Assignments are looked up by section and day for every routed report.
CREATE INDEX IF NOT EXISTS road_section_assignment_section_idx ON road_section_assignment (section_id);

-- The reporter, stamped from the acting user whatever the insert says (a NULL actor: refused).
CREATE FUNCTION report_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    SELECT a.user_id, a.username INTO NEW.reporter_id, NEW.reporter FROM audit_actor() a;
    IF NEW.reporter_id IS NULL OR NEW.reporter IS NULL THEN
        RAISE EXCEPTION 'a report needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.created_at := clock_timestamp();
    NEW.updated_at := NEW.created_at;
    NEW.state := 'new';
    NEW.duplicate_of := NULL;
    NEW.handled_by := NULL;
    RETURN NEW;
END $$;
CREATE TRIGGER report_stamp BEFORE INSERT ON report FOR EACH ROW EXECUTE FUNCTION report_stamp();

-- The history: one row per step, never changed. The actor is stamped like the reporter.
CREATE TABLE report_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id    bigint NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    action       text NOT NULL CHECK (action IN ('file', 'accept', 'reject', 'duplicate', 'dispatch',
                                                 'overrule', 'return', 'sign', 'handle', 'verify', 'close')),
    from_state   text REFERENCES report_state (code),  -- NULL for filing
    to_state     text NOT NULL REFERENCES report_state (code),
    actor_id     bigint NOT NULL,
    actor        text NOT NULL,
    reason       text REFERENCES report_return_reason (code),
    note         text CHECK (length(note) <= 2000),
    -- the owner after the step (a dispatch may change it)
    owner_kind   text NOT NULL,
    unit_id      bigint,
    grid_code    text,
    community_code text,
    at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX report_event_report_idx ON report_event (report_id, id);

CREATE FUNCTION report_event_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    SELECT a.user_id, a.username INTO NEW.actor_id, NEW.actor FROM audit_actor() a;
    IF NEW.actor_id IS NULL OR NEW.actor IS NULL THEN
        RAISE EXCEPTION 'a report step needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER report_event_stamp BEFORE INSERT ON report_event
    FOR EACH ROW EXECUTE FUNCTION report_event_stamp();

-- Photos (media store, migration 016): 'before' with the report, 'after' when handled.
CREATE TABLE report_photo (
    report_id bigint NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    sha256    text NOT NULL REFERENCES media (sha256),
    kind      text NOT NULL CHECK (kind IN ('before', 'after')),
    file_name text,
    added_by  bigint NOT NULL DEFAULT access_user_id(),
    added_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (report_id, sha256, kind)
);
CREATE INDEX report_photo_sha256_idx ON report_photo (sha256);

-- Whether the acting user is an admin whose scopes hold the area (a community code); the owner
-- session (CLI, tests as owner) is one everywhere.
CREATE FUNCTION report_admin_of(area text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT (SELECT access_caller_sees_all())
        OR EXISTS (SELECT 1 FROM unnest(access_scopes('{admin}')) s WHERE starts_with(area, s))
$$;

-- The dispatcher of a report: an admin over its area, or (grid-owned) a grid worker of its grid.
CREATE FUNCTION report_dispatcher(area text, kind text, grid text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT report_admin_of(area)
        OR (kind = 'grid' AND grid = ANY (access_grids('{grid_worker}')))
$$;

-- Who acts as the report's owner: an account of the owning unit; a worker of the owning grid (or an
-- admin over the area); for a community or street queue, an admin over the area.
CREATE FUNCTION report_owner_actor(area text, kind text, unit bigint, grid text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT CASE kind
        WHEN 'unit' THEN unit = ANY (access_units())
        WHEN 'grid' THEN grid = ANY (access_grids('{grid_worker}')) OR report_admin_of(area)
        ELSE report_admin_of(area) END
$$;

-- Routing (分拨), set-based: the owner of each (id, point, category, day). In order:
--   1. street matters: the unit assigned on ``day`` to the nearest live section within 30 m on the
--      ellipsoid (ties: lowest section id); the nearest section decides: when it has no unit that
--      day, the report falls through to step 2 (the evidence still names the section);
--   2. the grid containing the point (lowest code on a border), if a worker (role 'worker') serves it;
--   3. the community containing the point (lowest code), its queue;
--   4. outside every community: the street (街道) queue of the nearest community (by distance on the
--      ellipsoid among the five nearest by the index), so no report is ever dropped.
-- SECURITY DEFINER: a reporter reads neither sections nor the worker roster, yet her report is routed.
CREATE FUNCTION report_owners(ids bigint[], points geometry[], categories text[], days date[])
RETURNS TABLE (id bigint, owner_kind text, unit_id bigint, grid_code text, community_code text,
               area_code text, county text, routed_rule text, routed_grid text, routed_section bigint,
               routed_section_m double precision, routed_assignment bigint, routed_valid daterange,
               routed_unit bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
WITH r AS (
    SELECT u.id, u.geom, u.geom::geography AS geog, u.category, u.day, c.handler
    FROM unnest(ids, points, categories, days) AS u(id, geom, category, day)
    JOIN report_category c ON c.code = u.category
), s AS (
    SELECT r.id, sec.section_id, sec.metres, a.id AS assignment_id, a.valid, a.unit_id
    FROM r
    CROSS JOIN LATERAL (
        SELECT rs.id AS section_id, ST_Distance(rs.geom::geography, r.geog) AS metres
        FROM road_section rs
        WHERE rs.retired_on IS NULL AND ST_DWithin(rs.geom::geography, r.geog, 30)
        ORDER BY 2, 1 LIMIT 1) sec
    LEFT JOIN road_section_assignment a ON a.section_id = sec.section_id AND a.valid @> r.day
    WHERE r.handler = 'street'
), g AS (
    SELECT r.id, gp.code, gp.community_code,
           EXISTS (SELECT 1 FROM grid_worker_grid wg WHERE wg.grid_code = gp.code AND wg.role = 'worker')
               AS staffed
    FROM r CROSS JOIN LATERAL (
        SELECT gr.code, gr.community_code FROM grid gr WHERE ST_Intersects(gr.geom, r.geom)
        ORDER BY gr.code LIMIT 1) gp
), c AS (
    SELECT r.id, cm.code
    FROM r CROSS JOIN LATERAL (
        SELECT co.code FROM community co WHERE ST_Intersects(co.geom, r.geom) ORDER BY co.code LIMIT 1) cm
), n AS (  -- only the points outside every community
    SELECT r.id, near.code
    FROM r CROSS JOIN LATERAL (
        SELECT k.code FROM (SELECT co.code, co.geom FROM community co ORDER BY co.geom <-> r.geom LIMIT 5) k
        ORDER BY ST_Distance(k.geom::geography, r.geog), k.code LIMIT 1) near
    WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.id = r.id)
)
SELECT r.id,
       CASE WHEN s.unit_id IS NOT NULL THEN 'unit' WHEN g.staffed THEN 'grid'
            WHEN coalesce(g.community_code, c.code) IS NOT NULL THEN 'community' ELSE 'street' END,
       s.unit_id,
       g.code,
       coalesce(g.community_code, c.code, n.code),
       coalesce(g.community_code, c.code, n.code),
       left(coalesce(g.community_code, c.code, n.code), 6),
       CASE WHEN s.unit_id IS NOT NULL THEN 'section' WHEN g.staffed THEN 'grid'
            WHEN coalesce(g.community_code, c.code) IS NOT NULL THEN 'community' ELSE 'nearest_community' END,
       g.code, s.section_id, s.metres, s.assignment_id, s.valid, s.unit_id
FROM r LEFT JOIN s ON s.id = r.id LEFT JOIN g ON g.id = r.id LEFT JOIN c ON c.id = r.id
LEFT JOIN n ON n.id = r.id
$$;
REVOKE EXECUTE ON FUNCTION report_owners(bigint[], geometry[], text[], date[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION report_owners(bigint[], geometry[], text[], date[]) TO gridmap_app;

-- One step of the workflow, by the acting user, decided here. Errors: 42501 (not yours to do: 403),
-- RP409 (the report is not in a state for it, or not in ``expected``: 409), 22023 (a missing or wrong
-- argument; DETAIL names the field: 422). Returns the new event's id.
CREATE FUNCTION report_transition(
    the_report bigint, action text, expected text DEFAULT NULL, reason text DEFAULT NULL, note text DEFAULT NULL,
    duplicate_of bigint DEFAULT NULL, new_owner_kind text DEFAULT NULL, new_unit bigint DEFAULT NULL,
    new_grid text DEFAULT NULL, new_community text DEFAULT NULL, new_handle_by date DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r public.report%ROWTYPE;
    me bigint := access_user_id();
    allowed text[];
    target text;
    who text;  -- 'dispatcher' | 'owner' | 'unit'
    may boolean;
    whose text;
    event bigint;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'a report step needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO r FROM public.report WHERE id = the_report FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'report % not found', the_report USING ERRCODE = 'no_data_found';
    END IF;
    CASE action
        WHEN 'accept' THEN allowed := '{new}'; target := 'accepted'; who := 'dispatcher';
        WHEN 'reject' THEN allowed := '{new}'; target := 'rejected'; who := 'dispatcher';
        WHEN 'duplicate' THEN allowed := '{new}'; target := 'duplicate'; who := 'dispatcher';
        WHEN 'dispatch' THEN allowed := '{accepted,returned}'; target := 'dispatched'; who := 'dispatcher';
        WHEN 'overrule' THEN allowed := '{returned}'; target := 'dispatched'; who := 'dispatcher';
        WHEN 'return' THEN allowed := '{dispatched,signed}'; target := 'returned'; who := 'unit';
        WHEN 'sign' THEN allowed := '{dispatched}'; target := 'signed'; who := 'owner';
        WHEN 'handle' THEN allowed := '{signed}'; target := 'handled'; who := 'owner';
        WHEN 'verify' THEN allowed := '{handled}'; target := 'verified'; who := 'dispatcher';
        WHEN 'close' THEN allowed := '{verified}'; target := 'closed'; who := 'dispatcher';
        ELSE RAISE EXCEPTION 'unknown action %', action USING ERRCODE = 'invalid_parameter_value',
                                                           DETAIL = 'action';
    END CASE;
    -- (an IF condition ends at its first THEN: the CASE is assigned first)
    may := CASE who
            WHEN 'dispatcher' THEN report_dispatcher(r.area_code, r.owner_kind, r.grid_code)
            WHEN 'owner' THEN report_owner_actor(r.area_code, r.owner_kind, r.unit_id, r.grid_code)
            ELSE r.owner_kind = 'unit' AND r.unit_id = ANY (access_units()) END;
    whose := CASE who WHEN 'dispatcher' THEN 'the dispatcher (an admin over the area, or the grid''s worker'
                                             ' for a grid-owned report)'
                      WHEN 'owner' THEN 'the report''s owner' ELSE 'the unit that owns the report' END;
    IF NOT coalesce(may, false) THEN
        RAISE EXCEPTION '% is for %', action, whose USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF expected IS NOT NULL AND expected <> r.state THEN
        RAISE EXCEPTION 'the report is % now, not %', r.state, expected USING ERRCODE = 'RP409';
    END IF;
    IF NOT r.state = ANY (allowed) THEN
        RAISE EXCEPTION 'a report that is % cannot be %ed (only from %)', r.state, action,
              array_to_string(allowed, ', ') USING ERRCODE = 'RP409';
    END IF;
    IF action = 'return' AND (reason IS NULL OR NOT EXISTS (SELECT 1 FROM report_return_reason
                                                          WHERE code = reason)) THEN
        RAISE EXCEPTION 'a return needs a reason from GET /reports/vocabulary (return_reasons)'
              USING ERRCODE = 'invalid_parameter_value', DETAIL = 'reason';
    END IF;
    IF action <> 'return' AND reason IS NOT NULL THEN
        RAISE EXCEPTION 'only a return takes a reason' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'reason';
    END IF;
    IF action IN ('overrule', 'reject') AND coalesce(btrim(note), '') = '' THEN
        RAISE EXCEPTION 'say why (note)' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'note';
    END IF;
    IF action = 'duplicate' THEN
        IF report_transition.duplicate_of IS NULL OR report_transition.duplicate_of = r.id
           OR NOT EXISTS (SELECT 1 FROM public.report o WHERE o.id = report_transition.duplicate_of
                                                     AND o.category = r.category) THEN
            RAISE EXCEPTION 'name another report of the same category' USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'duplicate_of';
        END IF;
    ELSIF report_transition.duplicate_of IS NOT NULL THEN
        RAISE EXCEPTION 'only a duplicate names another report' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'duplicate_of';
    END IF;
    IF action = 'handle' AND NOT EXISTS (SELECT 1 FROM report_photo p WHERE p.report_id = r.id
                                                                      AND p.kind = 'after') THEN
        RAISE EXCEPTION 'handling needs an "after" photo' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'photos';
    END IF;
    IF action = 'verify' AND r.handled_by = me THEN
        RAISE EXCEPTION 'the account that handled a report may not verify it'
              USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF new_owner_kind IS NOT NULL THEN
        IF action <> 'dispatch' THEN
            RAISE EXCEPTION 'only a dispatch changes the owner' USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'owner_kind';
        END IF;
        IF new_owner_kind = 'unit' AND NOT EXISTS (SELECT 1 FROM responsible_unit WHERE id = new_unit) THEN
            RAISE EXCEPTION 'no such unit' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'unit_id';
        ELSIF new_owner_kind = 'grid' AND NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = new_grid
                                                       AND starts_with(g.code, left(r.area_code, 9))) THEN
            RAISE EXCEPTION 'no such grid in the report''s street' USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'grid_code';
        ELSIF new_owner_kind IN ('community', 'street') AND NOT EXISTS (
                SELECT 1 FROM community c WHERE c.code = new_community
                AND starts_with(c.code, left(r.area_code, 9))) THEN
            RAISE EXCEPTION 'no such community in the report''s street'
                  USING ERRCODE = 'invalid_parameter_value', DETAIL = 'community_code';
        ELSIF new_owner_kind NOT IN ('unit', 'grid', 'community', 'street') THEN
            RAISE EXCEPTION 'owner_kind is unit, grid, community or street'
                  USING ERRCODE = 'invalid_parameter_value', DETAIL = 'owner_kind';
        END IF;
        r.owner_kind := new_owner_kind;
        r.unit_id := CASE WHEN new_owner_kind = 'unit' THEN new_unit END;
        r.grid_code := CASE WHEN new_owner_kind = 'grid' THEN new_grid ELSE r.routed_grid END;
        r.community_code := CASE WHEN new_owner_kind = 'grid' THEN left(new_grid, 12)
                                 WHEN new_owner_kind IN ('community', 'street') THEN new_community
                                 ELSE r.community_code END;
    END IF;
    UPDATE public.report SET
        state = target,
        duplicate_of = report_transition.duplicate_of,
        owner_kind = r.owner_kind, unit_id = r.unit_id, grid_code = r.grid_code,
        community_code = r.community_code,
        handle_by = CASE WHEN action IN ('dispatch', 'overrule') AND new_handle_by IS NOT NULL
                         THEN new_handle_by ELSE handle_by END,
        handled_by = CASE WHEN action = 'handle' THEN me ELSE handled_by END,
        updated_at = clock_timestamp()
    WHERE id = r.id;
    INSERT INTO report_event (report_id, action, from_state, to_state, actor_id, actor, reason, note,
                              owner_kind, unit_id, grid_code, community_code)
    VALUES (r.id, action, r.state, target, 0, '', reason, nullif(btrim(note), ''), r.owner_kind, r.unit_id,
            r.grid_code, r.community_code)
    RETURNING id INTO event;
    RETURN event;
END $$;
REVOKE EXECUTE ON FUNCTION report_transition(bigint, text, text, text, text, bigint, text, bigint, text, text,
                                             date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION report_transition(bigint, text, text, text, text, bigint, text, bigint, text, text,
                                            date) TO gridmap_app;

-- Row-level security. Reading: a reporter (anyone) her own reports; an admin or a viewer those of the
-- areas of their scopes; a grid worker those lying in her grids; a unit account those its unit owns.
-- Filing: admins, grid workers and reporters (the route's roles decide who; the reporter is stamped).
-- Changing: only report_transition() (no UPDATE or DELETE for the service).
ALTER TABLE report ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_event ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_photo ENABLE ROW LEVEL SECURITY;
CREATE POLICY report_read ON report FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,viewer}'))
    OR reporter_id = (SELECT access_user_id())
    OR EXISTS (SELECT 1 FROM unnest((SELECT access_scopes('{admin,viewer}'))) s WHERE starts_with(area_code, s))
    OR routed_grid = ANY ((SELECT access_grids('{grid_worker}'))::text[])
    OR (owner_kind = 'unit' AND unit_id = ANY ((SELECT access_units())::bigint[])));
CREATE POLICY report_insert ON report FOR INSERT TO gridmap_app WITH CHECK (
    reporter_id = (SELECT access_user_id()));
CREATE POLICY report_event_read ON report_event FOR SELECT TO gridmap_app USING (
    report_id IN (SELECT r.id FROM report r));
CREATE POLICY report_event_insert ON report_event FOR INSERT TO gridmap_app WITH CHECK (
    action = 'file' AND report_id IN (SELECT r.id FROM report r WHERE r.reporter_id = (SELECT access_user_id())));
CREATE POLICY report_photo_read ON report_photo FOR SELECT TO gridmap_app USING (
    report_id IN (SELECT r.id FROM report r));
-- 'before' photos by the reporter; 'after' photos by whoever acts as the owner
CREATE POLICY report_photo_insert ON report_photo FOR INSERT TO gridmap_app WITH CHECK (
    added_by = (SELECT access_user_id()) AND report_id IN (
        SELECT r.id FROM report r
        WHERE CASE kind WHEN 'before' THEN r.reporter_id = (SELECT access_user_id())
                        ELSE report_owner_actor(r.area_code, r.owner_kind, r.unit_id, r.grid_code) END));

REVOKE ALL ON report, report_event, report_photo, report_state, report_category, report_return_reason
    FROM gridmap_app;
GRANT SELECT, INSERT ON report, report_event, report_photo TO gridmap_app;
GRANT SELECT ON report_state, report_category, report_return_reason TO gridmap_app;
REVOKE EXECUTE ON FUNCTION report_admin_of(text), report_dispatcher(text, text, text),
    report_owner_actor(text, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION report_admin_of(text), report_dispatcher(text, text, text),
    report_owner_actor(text, text, bigint, text) TO gridmap_app;

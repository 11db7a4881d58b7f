-- Duties and unmanaged compounds (issue 16, part A).
--
-- Duties (值守/劝导): a unit stands a duty at a post (a road section, or a point such as a crossing
-- with traffic lights) weekly on an ISO weekday (每周五) or monthly on a day of the month
-- (每月15日交通红绿灯文明劝导). The roster is derived from the recurrence for any range of days
-- (gis/duties/roster.sql): no roster rows are stored, only what was recorded about a day: done or
-- missed, by whom (the signed-in user, stamped here from audit_actor(), never typed), when, photos.
-- A rostered day with no record by its end is listed as missed from the next day.
--
-- 门前三包 frontage agreements: a shop (a place of the perimeter tables, or a point of its own)
-- undertakes its frontage for a period with a unit or owner; checks of it are stamped like duties.
--
-- Unmanaged compounds (无人管理小区): polygons with their management kind, one lead helper unit
-- (帮扶单位) at any moment enforced by an exclusion constraint (as road_section_assignment, migration
-- 003: two planners pairing one compound at once cannot both win, and history is kept), and the
-- helper's tasks (美化/亮化/绿化, 实事好事) with photos before and after.

-- ---------------------------------------------------------------------------------------------- duties
CREATE TABLE duty (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    unit_id     bigint NOT NULL REFERENCES responsible_unit (id) ON DELETE RESTRICT,
    recurrence  text NOT NULL CHECK (recurrence IN ('weekly', 'monthly')),
    weekday     smallint CHECK (weekday BETWEEN 1 AND 7),      -- ISO weekday, 5 = 每周五
    month_day   smallint CHECK (month_day BETWEEN 1 AND 31),   -- a month without it: its last day
    -- the post: a road section, or a point (a crossing) with its name
    section_id  bigint REFERENCES road_section (id) ON DELETE CASCADE,
    post        geometry(Point, 4326),
    post_name   text CHECK (length(post_name) <= 200),
    valid       daterange NOT NULL CHECK (NOT isempty(valid) AND NOT lower_inf(valid)),
    note        text CHECK (length(note) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT duty_weekly_has_weekday CHECK ((recurrence = 'weekly') = (weekday IS NOT NULL)),
    CONSTRAINT duty_monthly_has_day CHECK ((recurrence = 'monthly') = (month_day IS NOT NULL)),
    CONSTRAINT duty_one_post CHECK ((section_id IS NULL) <> (post IS NULL))
);
CREATE INDEX duty_unit_idx ON duty (unit_id);
CREATE INDEX duty_section_idx ON duty (section_id);

-- What was recorded about one rostered day. One record per duty and day: a second is a conflict.
CREATE TABLE duty_record (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    duty_id      bigint NOT NULL REFERENCES duty (id) ON DELETE CASCADE,
    duty_day     date NOT NULL,
    status       text NOT NULL CHECK (status IN ('done', 'missed')),
    note         text CHECK (length(note) <= 2000),
    recorder_id  bigint,  -- the signed-in user (no foreign key: records outlive accounts); NULL: the owner's
    recorder     text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT duty_record_once UNIQUE (duty_id, duty_day)
);

CREATE TABLE duty_record_photo (
    record_id  bigint NOT NULL REFERENCES duty_record (id) ON DELETE CASCADE,
    sha256     text NOT NULL REFERENCES media (sha256),
    file_name  text,
    added_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (record_id, sha256)
);
CREATE INDEX duty_record_photo_sha256_idx ON duty_record_photo (sha256);

-- 门前三包: a shop's undertaking for its frontage, for a period.
CREATE TABLE frontage_agreement (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    place_id    bigint REFERENCES place (id) ON DELETE CASCADE,  -- a shop of the perimeter tables
    shop_name   text NOT NULL CHECK (btrim(shop_name) <> '' AND length(shop_name) <= 200),
    geom        geometry(Point, 4326) NOT NULL,                   -- the place's, or the shop's own point
    unit_id     bigint REFERENCES responsible_unit (id) ON DELETE RESTRICT,
    owner       text CHECK (length(owner) <= 200),                -- the shop's owner or manager
    valid       daterange NOT NULL CHECK (NOT isempty(valid) AND NOT lower_inf(valid)),
    note        text CHECK (length(note) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT frontage_has_party CHECK (unit_id IS NOT NULL OR owner IS NOT NULL)
);
CREATE INDEX frontage_agreement_place_idx ON frontage_agreement (place_id);
CREATE INDEX frontage_agreement_unit_idx ON frontage_agreement (unit_id);

CREATE TABLE frontage_check (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agreement_id  bigint NOT NULL REFERENCES frontage_agreement (id) ON DELETE CASCADE,
    checked_on    date NOT NULL,
    result        text NOT NULL CHECK (result IN ('pass', 'fail')),
    note          text CHECK (length(note) <= 2000),
    checker_id    bigint,
    checker       text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX frontage_check_agreement_idx ON frontage_check (agreement_id, checked_on);

CREATE TABLE frontage_check_photo (
    check_id   bigint NOT NULL REFERENCES frontage_check (id) ON DELETE CASCADE,
    sha256     text NOT NULL REFERENCES media (sha256),
    file_name  text,
    added_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (check_id, sha256)
);

-- --------------------------------------------------------------------------------------- compounds
CREATE TABLE compound_management (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO compound_management VALUES
    ('none', '无物业', 'no property management'),
    ('self', '自管', 'self-managed by residents'),
    ('property', '物业', 'property company'),
    ('abandoned', '弃管', 'abandoned by its company'),
    ('other', '其他', 'other');

CREATE TABLE compound (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref         text UNIQUE CHECK (ref ~ '^[A-Za-z0-9_.:-]{1,60}$'),
    name        text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    management  text NOT NULL DEFAULT 'none' REFERENCES compound_management (code),
    households  integer CHECK (households >= 0),
    note        text CHECK (length(note) <= 2000),
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX compound_geom_idx ON compound USING gist (geom);

-- The lead helper unit (帮扶单位) of a compound when; valid is [from, to+1), NULL upper = open.
CREATE TABLE compound_helper (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    compound_id  bigint NOT NULL REFERENCES compound (id) ON DELETE CASCADE,
    unit_id      bigint NOT NULL REFERENCES responsible_unit (id) ON DELETE RESTRICT,
    valid        daterange NOT NULL CHECK (NOT isempty(valid) AND NOT lower_inf(valid)),
    note         text CHECK (length(note) <= 500),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT compound_one_helper_at_a_time EXCLUDE USING gist (compound_id WITH =, valid WITH &&)
);
CREATE INDEX compound_helper_unit_idx ON compound_helper (unit_id);

CREATE TABLE compound_task (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    compound_id  bigint NOT NULL REFERENCES compound (id) ON DELETE CASCADE,
    unit_id      bigint NOT NULL REFERENCES responsible_unit (id) ON DELETE RESTRICT,  -- the helper then
    kind         text NOT NULL CHECK (kind IN ('beautify', 'lighting', 'greening', 'good_deed')),
    title        text NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200),
    done_on      date NOT NULL,
    note         text CHECK (length(note) <= 2000),
    recorder_id  bigint,
    recorder     text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX compound_task_compound_idx ON compound_task (compound_id, done_on);

CREATE TABLE compound_task_photo (
    task_id    bigint NOT NULL REFERENCES compound_task (id) ON DELETE CASCADE,
    sha256     text NOT NULL REFERENCES media (sha256),
    stage      text NOT NULL CHECK (stage IN ('before', 'after')),
    file_name  text,
    added_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (task_id, stage, sha256)
);

-- ------------------------------------------------------------------------------------- who wrote it
-- The recorder of a duty day, a frontage check or a task: the acting user whatever the insert says
-- (the owner's own sessions, with no user: as migration 023's actor_stamp()).
CREATE FUNCTION duty_compound_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint;
    uname text;
BEGIN
    SELECT a.user_id, a.username INTO uid, uname FROM audit_actor() a;
    IF uid IS NULL THEN
        -- a session of the owner's (the CLI, an import run by the operator) writes what it says, with no
        -- account (migration 023); the service's login role always needs a signed-in user
        IF NOT access_owner_session() THEN
            RAISE EXCEPTION '% needs a signed-in user', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_TABLE_NAME = 'frontage_check' THEN NEW.checker_id := NULL; ELSE NEW.recorder_id := NULL; END IF;
    ELSIF TG_TABLE_NAME = 'frontage_check' THEN
        NEW.checker_id := uid; NEW.checker := uname;
    ELSE
        NEW.recorder_id := uid; NEW.recorder := uname;
    END IF;
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER duty_record_stamp BEFORE INSERT ON duty_record
    FOR EACH ROW EXECUTE FUNCTION duty_compound_stamp();
CREATE TRIGGER frontage_check_stamp BEFORE INSERT ON frontage_check
    FOR EACH ROW EXECUTE FUNCTION duty_compound_stamp();
CREATE TRIGGER compound_task_stamp BEFORE INSERT ON compound_task
    FOR EACH ROW EXECUTE FUNCTION duty_compound_stamp();

-- ------------------------------------------------------------------------------ row-level security
-- Planners and admins (any scope: duties and compounds are the street's campaign, like road sections)
-- define and read everything; viewers read; a unit's accounts read and record only their own unit's
-- duties, agreements and tasks (access_units(), migration 021). Inspectors check frontages.
ALTER TABLE duty ENABLE ROW LEVEL SECURITY;
ALTER TABLE duty_record ENABLE ROW LEVEL SECURITY;
ALTER TABLE duty_record_photo ENABLE ROW LEVEL SECURITY;
ALTER TABLE frontage_agreement ENABLE ROW LEVEL SECURITY;
ALTER TABLE frontage_check ENABLE ROW LEVEL SECURITY;
ALTER TABLE frontage_check_photo ENABLE ROW LEVEL SECURITY;
ALTER TABLE compound ENABLE ROW LEVEL SECURITY;
ALTER TABLE compound_helper ENABLE ROW LEVEL SECURITY;
ALTER TABLE compound_task ENABLE ROW LEVEL SECURITY;
ALTER TABLE compound_task_photo ENABLE ROW LEVEL SECURITY;

CREATE POLICY duty_read ON duty FOR SELECT TO gridmap_app USING (
    (SELECT access_any('{admin,planner,viewer}')) OR unit_id = ANY ((SELECT access_units())::bigint[]));
CREATE POLICY duty_insert ON duty FOR INSERT TO gridmap_app WITH CHECK ((SELECT access_any('{admin,planner}')));
CREATE POLICY duty_update ON duty FOR UPDATE TO gridmap_app USING ((SELECT access_any('{admin,planner}')));

CREATE POLICY duty_record_read ON duty_record FOR SELECT TO gridmap_app USING (
    duty_id IN (SELECT d.id FROM duty d));  -- the duty's own policy decides
CREATE POLICY duty_record_insert ON duty_record FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_any('{admin,planner}'))
    OR duty_id IN (SELECT d.id FROM duty d WHERE d.unit_id = ANY ((SELECT access_units())::bigint[])));
CREATE POLICY duty_record_photo_read ON duty_record_photo FOR SELECT TO gridmap_app USING (
    record_id IN (SELECT r.id FROM duty_record r));
CREATE POLICY duty_record_photo_insert ON duty_record_photo FOR INSERT TO gridmap_app WITH CHECK (
    record_id IN (SELECT r.id FROM duty_record r));

CREATE POLICY frontage_agreement_read ON frontage_agreement FOR SELECT TO gridmap_app USING (
    (SELECT access_any('{admin,planner,viewer,inspector}')) OR unit_id = ANY ((SELECT access_units())::bigint[]));
CREATE POLICY frontage_agreement_insert ON frontage_agreement FOR INSERT TO gridmap_app
    WITH CHECK ((SELECT access_any('{admin,planner}')));
CREATE POLICY frontage_agreement_update ON frontage_agreement FOR UPDATE TO gridmap_app
    USING ((SELECT access_any('{admin,planner}')));
CREATE POLICY frontage_check_read ON frontage_check FOR SELECT TO gridmap_app USING (
    agreement_id IN (SELECT a.id FROM frontage_agreement a));
CREATE POLICY frontage_check_insert ON frontage_check FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_any('{admin,planner,inspector}'))
    AND agreement_id IN (SELECT a.id FROM frontage_agreement a));
CREATE POLICY frontage_check_photo_read ON frontage_check_photo FOR SELECT TO gridmap_app USING (
    check_id IN (SELECT c.id FROM frontage_check c));
CREATE POLICY frontage_check_photo_insert ON frontage_check_photo FOR INSERT TO gridmap_app WITH CHECK (
    check_id IN (SELECT c.id FROM frontage_check c));

-- Compounds and who helps them are no personal data: every campaign role reads them.
CREATE POLICY compound_read ON compound FOR SELECT TO gridmap_app USING (
    (SELECT access_any('{admin,planner,viewer,unit}')));
CREATE POLICY compound_insert ON compound FOR INSERT TO gridmap_app
    WITH CHECK ((SELECT access_any('{admin,planner}')));
CREATE POLICY compound_update ON compound FOR UPDATE TO gridmap_app USING ((SELECT access_any('{admin,planner}')));
CREATE POLICY compound_helper_read ON compound_helper FOR SELECT TO gridmap_app USING (
    (SELECT access_any('{admin,planner,viewer,unit}')));
CREATE POLICY compound_helper_insert ON compound_helper FOR INSERT TO gridmap_app
    WITH CHECK ((SELECT access_any('{admin,planner}')));
CREATE POLICY compound_helper_update ON compound_helper FOR UPDATE TO gridmap_app
    USING ((SELECT access_any('{admin,planner}')));
CREATE POLICY compound_task_read ON compound_task FOR SELECT TO gridmap_app USING (
    (SELECT access_any('{admin,planner,viewer}')) OR unit_id = ANY ((SELECT access_units())::bigint[]));
-- a unit records tasks only in its own name, and only while it is the compound's helper that day
CREATE POLICY compound_task_insert ON compound_task FOR INSERT TO gridmap_app WITH CHECK (
    ((SELECT access_any('{admin,planner}')) OR unit_id = ANY ((SELECT access_units())::bigint[]))
    AND EXISTS (SELECT 1 FROM compound_helper h
                WHERE h.compound_id = compound_task.compound_id AND h.unit_id = compound_task.unit_id
                  AND h.valid @> compound_task.done_on));
CREATE POLICY compound_task_photo_read ON compound_task_photo FOR SELECT TO gridmap_app USING (
    task_id IN (SELECT t.id FROM compound_task t));
CREATE POLICY compound_task_photo_insert ON compound_task_photo FOR INSERT TO gridmap_app WITH CHECK (
    task_id IN (SELECT t.id FROM compound_task t));

REVOKE ALL ON duty, duty_record, duty_record_photo, frontage_agreement, frontage_check,
    frontage_check_photo, compound_management, compound, compound_helper, compound_task,
    compound_task_photo FROM gridmap_app;
GRANT SELECT, INSERT, UPDATE ON duty, frontage_agreement, compound, compound_helper TO gridmap_app;
-- records are evidence: added and read, never changed or removed
GRANT SELECT, INSERT ON duty_record, duty_record_photo, frontage_check, frontage_check_photo,
    compound_task, compound_task_photo TO gridmap_app;
GRANT SELECT ON compound_management TO gridmap_app;

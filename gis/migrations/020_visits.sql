-- Visits (走访, issue 14): a grid worker checks in at a household (kind, outcome, notes, photos, the
-- phone's position and how far it was from the household), and the visit policy says how long a
-- household may go unvisited (重点人员 by category, 独居老人, 低保/特困 households, every household).
--
-- Who visited is the signed-in user, stamped here from the request's token (audit_actor(), migration
-- 012): the service never sends it, so a client cannot claim a visit in someone else's name. Visits are
-- evidence: the service adds and reads them, never changes or removes them. Nothing about a person's
-- religion or political views is kept here (or anywhere in the register).

CREATE TABLE visit_kind (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO visit_kind VALUES
    ('routine', '日常走访', 'routine visit'),
    ('key_person_followup', '重点人员帮教/随访', 'key-person follow-up'),
    ('poverty_check', '困难户核查', 'poverty check'),
    ('elderly_care', '关爱老人', 'elderly care'),
    ('dispute_check', '矛盾纠纷排查', 'dispute check'),
    ('festival_greeting', '节日慰问', 'festival greeting'),
    ('leaflet', '宣传发放', 'leaflet');

-- resets_clock: whether such a visit counts for the policy (the worker reached the household and
-- learnt how it is); finding nobody home does not.
CREATE TABLE visit_outcome (
    code         text PRIMARY KEY,
    name_zh      text NOT NULL,
    name_en      text NOT NULL,
    resets_clock boolean NOT NULL
);
INSERT INTO visit_outcome VALUES
    ('met', '见面', 'met', true),
    ('not_home', '不在家', 'not home', false),
    ('refused', '拒绝', 'refused', true),
    ('moved_out', '已搬离', 'moved out', true);

CREATE TABLE visit (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    household_id  bigint NOT NULL REFERENCES household (id) ON DELETE CASCADE,
    -- the 6-digit county (区县) of the household when visited: the distribution key of a later Citus
    county        text NOT NULL CHECK (county ~ '^[1-9][0-9]{5}$'),
    visitor_id    bigint NOT NULL,  -- the signed-in user (no foreign key: visits outlive accounts)
    visitor       text NOT NULL,    -- their username then
    visited_at    timestamptz NOT NULL,  -- when the phone checked in (it may post later, offline)
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind          text NOT NULL REFERENCES visit_kind (code),
    outcome       text NOT NULL REFERENCES visit_outcome (code),
    note          text CHECK (length(note) <= 2000),
    position      geometry(Point, 4326) NOT NULL,  -- WGS 84, converted from GCJ-02/BD-09 on the way in
    position_crs  text NOT NULL CHECK (position_crs IN ('EPSG:4326', 'GCJ-02', 'BD-09')),  -- as sent
    accuracy_m    double precision CHECK (accuracy_m >= 0),  -- the phone's own estimate
    -- metres to the household on the ellipsoid (geography), and whether that was beyond the limit in
    -- force (GRIDMAP_VISIT_FAR_M, kept beside it): flagged, never refused
    distance_m    double precision NOT NULL CHECK (distance_m >= 0),
    far_limit_m   double precision NOT NULL CHECK (far_limit_m > 0),
    far           boolean NOT NULL,
    client_id     text NOT NULL CHECK (client_id ~ '^[A-Za-z0-9._:-]{8,64}$'),
    -- a phone retrying on a bad network sends the same client id: stored once per visitor
    CONSTRAINT visit_client_once UNIQUE (visitor_id, client_id)
);
CREATE INDEX visit_household_idx ON visit (household_id, visited_at DESC);
CREATE INDEX visit_visited_at_idx ON visit (visited_at);

-- The visitor, stamped from the acting user whatever the insert says (a NULL actor: refused).
CREATE FUNCTION visit_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    SELECT a.user_id, a.username INTO NEW.visitor_id, NEW.visitor FROM audit_actor() a;
    IF NEW.visitor_id IS NULL OR NEW.visitor IS NULL THEN
        RAISE EXCEPTION 'a visit needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER visit_stamp BEFORE INSERT ON visit FOR EACH ROW EXECUTE FUNCTION visit_stamp();

-- A visit's photos (media store, migration 016), read through the visit under its rules.
CREATE TABLE visit_photo (
    visit_id  bigint NOT NULL REFERENCES visit (id) ON DELETE CASCADE,
    sha256    text NOT NULL REFERENCES media (sha256),
    file_name text,  -- as the phone named it
    added_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (visit_id, sha256)
);
CREATE INDEX visit_photo_sha256_idx ON visit_photo (sha256);

-- The visit policy (走访频次): the longest a household may go unvisited, per group. A household's
-- interval is the strictest group any member belongs to; every household at least 'household'.
CREATE TABLE visit_policy (
    group_code    text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('key_person', 'elderly_alone', 'poverty', 'household')),
    key_category  text UNIQUE REFERENCES key_person_category (code) ON DELETE CASCADE,
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    interval_days integer NOT NULL CHECK (interval_days BETWEEN 1 AND 3660),
    CONSTRAINT visit_policy_category CHECK ((kind = 'key_person') = (key_category IS NOT NULL))
);
CREATE UNIQUE INDEX visit_policy_one_per_kind ON visit_policy (kind) WHERE kind <> 'key_person';
INSERT INTO visit_policy (group_code, kind, key_category, name_zh, name_en, interval_days)
SELECT 'key_person:' || c.code, 'key_person', c.code, '重点人员-' || c.name_zh, 'key person: ' || c.name_en,
       CASE c.code WHEN 'severe_mental_disorder' THEN 14 WHEN 'community_correction' THEN 14 ELSE 30 END
FROM key_person_category c;
INSERT INTO visit_policy (group_code, kind, key_category, name_zh, name_en, interval_days) VALUES
    ('elderly_alone', 'elderly_alone', NULL, '独居老人', 'elderly living alone', 7),
    ('poverty', 'poverty', NULL, '低保/特困等困难户', 'poor households', 30),
    ('household', 'household', NULL, '全部住户', 'every household', 365);

-- Row-level security as the household's (migration 011): admins and grid workers of the household's
-- grid (an ungridded household: the admins of its community) read and add; nobody else, and nobody
-- changes or removes. Membership is tested against access_households() (a hashed subplan built once
-- per statement), as person rows are.
ALTER TABLE visit ENABLE ROW LEVEL SECURITY;
ALTER TABLE visit_photo ENABLE ROW LEVEL SECURITY;
CREATE POLICY visit_read ON visit FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR household_id IN (SELECT access_households('{admin,grid_worker}')));
CREATE POLICY visit_insert ON visit FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_all('{admin,grid_worker}'))
    OR household_id IN (SELECT access_households('{admin,grid_worker}')));
CREATE POLICY visit_photo_read ON visit_photo FOR SELECT TO gridmap_app USING (
    visit_id IN (SELECT v.id FROM visit v));  -- the visit's own policy decides
CREATE POLICY visit_photo_insert ON visit_photo FOR INSERT TO gridmap_app WITH CHECK (
    visit_id IN (SELECT v.id FROM visit v));

-- The grid workers (user accounts with a grid_worker grant) of each grid under ``prefix`` that the
-- acting user reads (admin, grid worker), for the figures per worker: usernames only.
CREATE FUNCTION visit_grid_workers(prefix text)
RETURNS TABLE (grid_code text, user_id bigint, username text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT g.scope, u.id, u.username
    FROM user_grant g JOIN app_user u ON u.id = g.user_id AND u.active
    WHERE g.role = 'grid_worker' AND starts_with(g.scope, prefix)
      AND ((SELECT access_caller_sees_all()) OR (SELECT access_all('{admin,grid_worker}'))
           OR g.scope = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[]))
$$;
REVOKE EXECUTE ON FUNCTION visit_grid_workers(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION visit_grid_workers(text) TO gridmap_app;

REVOKE ALL ON visit, visit_photo, visit_kind, visit_outcome, visit_policy FROM gridmap_app;
GRANT SELECT, INSERT ON visit, visit_photo TO gridmap_app;
GRANT SELECT ON visit_kind, visit_outcome, visit_policy TO gridmap_app;

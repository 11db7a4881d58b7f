-- The campaign's facilities, volunteers and honour lists (issue 16, part B).
--
-- Facilities (阵地): 道德讲堂, 志愿服务站, 市民学校, 宣传栏, 曝光台 ... as points with an owner (a community
-- or a responsible unit); the community they stand in is derived from the point here, never sent. The
-- targets per kind (道德讲堂 1-2 per community) are data, and so is the check against them.
--
-- Volunteers (学雷锋志愿服务): teams, their members (a person of the register or an outsider), their
-- activities and the hours each member served. person.volunteer is DERIVED from active membership:
-- triggers keep it equal to "has a membership not left", and a write of the flag through the register
-- (edit form, API, import) is turned into joining or leaving the community's registered-volunteers team
-- (登记志愿者), so that membership stays the one source of truth.
--
-- Honour and red/black lists (红黑榜, 十文明户, 最美家庭, 孝道红黑榜): versions drafted, approved and
-- published; a published version never changes (refused here, for the owner too) and is replaced by a
-- new version that supersedes it. A black entry points to its evidence: a closed violation, an
-- inspection that found one, or a closed report (table report, when it exists). Entries about
-- households and persons are read under the register's rules and reach the public only through an
-- approved public version, redacted (张**家, the building only).

-- Who may act on a record of an area ``scope`` (a code prefix): a role whose scope covers it or lies
-- within it (a grid worker of one grid sees her community's teams and lists).
CREATE FUNCTION campaign_scope_seen(scope text, roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(access_scopes(roles)) s
                   WHERE starts_with(scope, s) OR starts_with(s, scope))
$$;

------------------------------------------------------------------------------------------------------
-- Facilities
------------------------------------------------------------------------------------------------------
CREATE TABLE facility_kind (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name_zh text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO facility_kind VALUES
    ('moral_lecture_hall', '道德讲堂', 'moral lecture hall'),
    ('volunteer_station', '志愿服务站', 'volunteer station'),
    ('civic_school', '市民学校', 'civic school'),
    ('notice_board', '宣传栏', 'notice board'),
    ('exposure_board', '曝光台', 'exposure board'),
    ('practice_station', '新时代文明实践站', 'civilisation practice station');

CREATE TABLE facility (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL REFERENCES facility_kind (code),
    name            text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    address         text CHECK (length(address) <= 300),
    -- the owner: a community (its committee) or a responsible unit, exactly one
    owner_community text REFERENCES community (code) ON UPDATE CASCADE ON DELETE RESTRICT,
    owner_unit      bigint REFERENCES responsible_unit (id) ON DELETE RESTRICT,
    geom            geometry(Point, 4326) NOT NULL,  -- WGS 84 (GCJ-02 converted on the way in)
    position_crs    text NOT NULL DEFAULT 'EPSG:4326' CHECK (position_crs IN ('EPSG:4326', 'GCJ-02', 'BD-09')),
    -- the community the point lies in (lowest code on a border), set by facility_place(); NULL outside
    community_code  text REFERENCES community (code) ON UPDATE CASCADE ON DELETE SET NULL,
    active          boolean NOT NULL DEFAULT true,  -- closed facilities are kept, not counted
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT facility_one_owner CHECK ((owner_community IS NULL) <> (owner_unit IS NULL))
);
CREATE INDEX facility_geom_idx ON facility USING gist (geom);
CREATE INDEX facility_community_idx ON facility (community_code, kind) WHERE active;

-- The community is the point's, whatever the insert says: one lookup in the community index.
CREATE FUNCTION facility_place() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    NEW.community_code := (SELECT min(c.code) FROM community c WHERE ST_Intersects(c.geom, NEW.geom));
    RETURN NEW;
END $$;
CREATE TRIGGER facility_place BEFORE INSERT OR UPDATE OF geom, community_code ON facility
    FOR EACH ROW EXECUTE FUNCTION facility_place();

-- Targets (阵地建设标准) as data: how many facilities of a kind each community under ``scope`` should
-- have; the most specific scope wins. max_count NULL: no upper bound.
CREATE TABLE facility_target (
    kind      text NOT NULL REFERENCES facility_kind (code) ON DELETE CASCADE,
    scope     text NOT NULL DEFAULT '' CHECK (scope ~ '^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$'),
    min_count integer NOT NULL CHECK (min_count >= 0),
    max_count integer CHECK (max_count >= min_count),
    PRIMARY KEY (kind, scope)
);
INSERT INTO facility_target (kind, scope, min_count, max_count) VALUES
    ('moral_lecture_hall', '', 1, 2),
    ('volunteer_station', '', 1, NULL);

-- Sessions held at a facility (活动记录): date, topic, attendance; the recorder is the signed-in user.
CREATE TABLE facility_session (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facility_id bigint NOT NULL REFERENCES facility (id) ON DELETE RESTRICT,
    held_on     date NOT NULL,
    topic       text NOT NULL CHECK (btrim(topic) <> '' AND length(topic) <= 300),
    attendance  integer NOT NULL CHECK (attendance BETWEEN 0 AND 100000),
    note        text CHECK (length(note) <= 2000),
    recorder_id bigint NOT NULL,  -- no foreign key: records outlive accounts
    recorder    text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX facility_session_facility_idx ON facility_session (facility_id, held_on DESC);

CREATE FUNCTION campaign_stamp_recorder() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    SELECT a.user_id, a.username INTO NEW.recorder_id, NEW.recorder FROM audit_actor() a;
    IF NEW.recorder_id IS NULL OR NEW.recorder IS NULL THEN
        RAISE EXCEPTION 'a record needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER facility_session_stamp BEFORE INSERT ON facility_session
    FOR EACH ROW EXECUTE FUNCTION campaign_stamp_recorder();

CREATE TABLE facility_session_photo (
    session_id bigint NOT NULL REFERENCES facility_session (id) ON DELETE RESTRICT,
    sha256     text NOT NULL REFERENCES media (sha256),
    file_name  text,
    added_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (session_id, sha256)
);

-- Facilities are public places: read by every role; written by the admins whose scope covers the
-- community the point lies in (outside every community: an admin of everything), or for sessions also
-- by the accounts of the owning unit.
ALTER TABLE facility ENABLE ROW LEVEL SECURITY;
ALTER TABLE facility_session ENABLE ROW LEVEL SECURITY;
ALTER TABLE facility_session_photo ENABLE ROW LEVEL SECURITY;
CREATE POLICY facility_read ON facility FOR SELECT TO gridmap_app USING (true);
CREATE POLICY facility_insert ON facility FOR INSERT TO gridmap_app
    WITH CHECK (access_covers(coalesce(community_code, ''), '{admin}'));
CREATE POLICY facility_update ON facility FOR UPDATE TO gridmap_app
    USING (access_covers(coalesce(community_code, ''), '{admin}'))
    WITH CHECK (access_covers(coalesce(community_code, ''), '{admin}'));
CREATE POLICY facility_session_read ON facility_session FOR SELECT TO gridmap_app USING (true);
CREATE POLICY facility_session_insert ON facility_session FOR INSERT TO gridmap_app WITH CHECK (
    facility_id IN (SELECT f.id FROM facility f
                    WHERE access_covers(coalesce(f.community_code, ''), '{admin}')
                       OR f.owner_unit = ANY ((SELECT access_units())::bigint[])));
CREATE POLICY facility_session_photo_read ON facility_session_photo FOR SELECT TO gridmap_app USING (true);
CREATE POLICY facility_session_photo_insert ON facility_session_photo FOR INSERT TO gridmap_app WITH CHECK (
    session_id IN (SELECT s.id FROM facility_session s JOIN facility f ON f.id = s.facility_id
                   WHERE access_covers(coalesce(f.community_code, ''), '{admin}')
                      OR f.owner_unit = ANY ((SELECT access_units())::bigint[])));

------------------------------------------------------------------------------------------------------
-- Volunteers
------------------------------------------------------------------------------------------------------
CREATE TABLE volunteer_team (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    -- the street (9 digits) or community (12) the team serves; '' only for the registered-volunteers
    -- team of persons whose household lies in no grid
    scope      text NOT NULL CHECK (scope ~ '^([1-9][0-9]{8}([0-9]{3})?)?$'),
    kind       text NOT NULL DEFAULT 'team' CHECK (kind IN ('team', 'register')),
    station_id bigint REFERENCES facility (id) ON DELETE SET NULL,  -- its 志愿服务站, if any
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT volunteer_team_name_once UNIQUE (scope, name),
    CONSTRAINT volunteer_team_scope CHECK (kind = 'register' OR scope <> '')
);
CREATE UNIQUE INDEX volunteer_team_one_register ON volunteer_team (scope) WHERE kind = 'register';

CREATE TABLE volunteer_member (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id        bigint NOT NULL REFERENCES volunteer_team (id) ON DELETE CASCADE,
    person_id      bigint REFERENCES person (id) ON DELETE CASCADE,  -- a resident of the register
    outsider_name  text CHECK (btrim(outsider_name) <> '' AND length(outsider_name) <= 100),
    outsider_phone text CHECK (outsider_phone ~ '^[0-9+\-]{5,20}$'),
    joined_on      date NOT NULL DEFAULT current_date,
    left_on        date,  -- NULL: active
    CONSTRAINT volunteer_member_who CHECK ((person_id IS NULL) <> (outsider_name IS NULL)),
    CONSTRAINT volunteer_member_phone CHECK (outsider_phone IS NULL OR person_id IS NULL),
    CONSTRAINT volunteer_member_dates CHECK (left_on IS NULL OR left_on >= joined_on),
    CONSTRAINT volunteer_member_in_team UNIQUE (id, team_id)  -- for the hours' composite key
);
CREATE UNIQUE INDEX volunteer_member_active_once ON volunteer_member (team_id, person_id)
    WHERE left_on IS NULL AND person_id IS NOT NULL;
CREATE INDEX volunteer_member_person_idx ON volunteer_member (person_id) WHERE left_on IS NULL;

CREATE TABLE volunteer_activity (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id     bigint NOT NULL REFERENCES volunteer_team (id) ON DELETE CASCADE,
    held_on     date NOT NULL,
    title       text NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 300),
    facility_id bigint REFERENCES facility (id) ON DELETE SET NULL,
    recorder_id bigint NOT NULL,
    recorder    text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT volunteer_activity_in_team UNIQUE (id, team_id)
);
CREATE TRIGGER volunteer_activity_stamp BEFORE INSERT ON volunteer_activity
    FOR EACH ROW EXECUTE FUNCTION campaign_stamp_recorder();

-- Hours per member of an activity: the member must be of the activity's team (composite keys).
CREATE TABLE volunteer_hours (
    activity_id bigint NOT NULL,
    team_id     bigint NOT NULL,
    member_id   bigint NOT NULL,
    hours       numeric(5, 2) NOT NULL CHECK (hours > 0 AND hours <= 24),
    PRIMARY KEY (activity_id, member_id),
    FOREIGN KEY (activity_id, team_id) REFERENCES volunteer_activity (id, team_id) ON DELETE CASCADE,
    FOREIGN KEY (member_id, team_id) REFERENCES volunteer_member (id, team_id) ON DELETE CASCADE
);
CREATE INDEX volunteer_hours_member_idx ON volunteer_hours (member_id);

-- person.volunteer := whether the person has an active membership, for the persons given. Bumps the
-- person's version: an edit form opened before the change is then refused (409) instead of writing the
-- old flag back. SECURITY DEFINER: a team's admin need not be a writer of the person's grid.
CREATE FUNCTION volunteer_flag_sync(ids bigint[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE person p SET volunteer = d.active, version = p.version + 1, updated_at = now()
    FROM (SELECT i AS id, EXISTS (SELECT 1 FROM volunteer_member m
                                  WHERE m.person_id = i AND m.left_on IS NULL) AS active
          FROM unnest(ids) i) d
    WHERE p.id = d.id AND p.volunteer IS DISTINCT FROM d.active
$$;
REVOKE EXECUTE ON FUNCTION volunteer_flag_sync(bigint[]) FROM PUBLIC, gridmap_app;

CREATE FUNCTION volunteer_member_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT person_id) INTO ids FROM old_rows WHERE person_id IS NOT NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(DISTINCT x) INTO ids FROM (
            SELECT person_id FROM old_rows UNION SELECT person_id FROM new_rows) u(x) WHERE x IS NOT NULL;
    ELSE
        SELECT array_agg(DISTINCT person_id) INTO ids FROM new_rows WHERE person_id IS NOT NULL;
    END IF;
    IF ids IS NOT NULL THEN
        PERFORM volunteer_flag_sync(ids);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER volunteer_member_inserted AFTER INSERT ON volunteer_member REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION volunteer_member_changed();
CREATE TRIGGER volunteer_member_updated AFTER UPDATE ON volunteer_member
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION volunteer_member_changed();
CREATE TRIGGER volunteer_member_deleted AFTER DELETE ON volunteer_member REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION volunteer_member_changed();

-- A person written through the register with a volunteer flag that membership does not say: the flag
-- set joins the community's registered-volunteers team (登记志愿者, made on first use); the flag cleared
-- ends every active membership. Once per statement (imports write 100k persons in one COPY).
CREATE FUNCTION volunteer_from_register() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    WITH wanted AS (
        SELECT n.id, coalesce(left(h.grid_code, 12), '') AS scope
        FROM new_rows n JOIN household h ON h.id = n.household_id
        WHERE n.volunteer AND NOT EXISTS (SELECT 1 FROM volunteer_member m
                                          WHERE m.person_id = n.id AND m.left_on IS NULL)
    ), made AS (
        INSERT INTO volunteer_team (name, scope, kind)
        SELECT DISTINCT '登记志愿者（一册）', w.scope, 'register' FROM wanted w
        ON CONFLICT DO NOTHING
        RETURNING id, scope
    ), teams AS (  -- the insert above is not visible to this statement's reads: both sets
        SELECT id, scope FROM made
        UNION ALL
        SELECT t.id, t.scope FROM volunteer_team t
        WHERE t.kind = 'register' AND t.scope IN (SELECT w.scope FROM wanted w)
    )
    INSERT INTO volunteer_member (team_id, person_id)
    SELECT t.id, w.id FROM wanted w JOIN teams t ON t.scope = w.scope;
    UPDATE volunteer_member m SET left_on = greatest(m.joined_on, current_date)
    FROM new_rows n
    WHERE NOT n.volunteer AND m.person_id = n.id AND m.left_on IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER person_volunteer_inserted AFTER INSERT ON person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION volunteer_from_register();
CREATE TRIGGER person_volunteer_updated AFTER UPDATE ON person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION volunteer_from_register();

-- The persons already flagged become members of their community's registered-volunteers team.
INSERT INTO volunteer_team (name, scope, kind)
SELECT DISTINCT '登记志愿者（一册）', coalesce(left(h.grid_code, 12), ''), 'register'
FROM person p JOIN household h ON h.id = p.household_id WHERE p.volunteer
ON CONFLICT DO NOTHING;
INSERT INTO volunteer_member (team_id, person_id)
SELECT t.id, p.id FROM person p JOIN household h ON h.id = p.household_id
JOIN volunteer_team t ON t.kind = 'register' AND t.scope = coalesce(left(h.grid_code, 12), '')
WHERE p.volunteer;

-- Teams and activities: seen by the admins and grid workers of their area, written by its admins.
-- Members: a resident under the register's rules (the persons the user reads); an outsider with the
-- team. Hours: with their member.
ALTER TABLE volunteer_team ENABLE ROW LEVEL SECURITY;
ALTER TABLE volunteer_member ENABLE ROW LEVEL SECURITY;
ALTER TABLE volunteer_activity ENABLE ROW LEVEL SECURITY;
ALTER TABLE volunteer_hours ENABLE ROW LEVEL SECURITY;
CREATE POLICY volunteer_team_read ON volunteer_team FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}')) OR campaign_scope_seen(scope, '{admin,grid_worker}'));
CREATE POLICY volunteer_team_write ON volunteer_team FOR ALL TO gridmap_app
    USING (access_covers(scope, '{admin}')) WITH CHECK (access_covers(scope, '{admin}'));
CREATE POLICY volunteer_member_read ON volunteer_member FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR (person_id IS NULL AND team_id IN (SELECT t.id FROM volunteer_team t))
    OR person_id IN (SELECT access_persons('{admin,grid_worker}')));
CREATE POLICY volunteer_member_write ON volunteer_member FOR ALL TO gridmap_app
    USING (team_id IN (SELECT t.id FROM volunteer_team t WHERE access_covers(t.scope, '{admin}'))
           AND (person_id IS NULL OR (SELECT access_all('{admin}'))
                OR person_id IN (SELECT access_persons('{admin}'))))
    WITH CHECK (team_id IN (SELECT t.id FROM volunteer_team t WHERE access_covers(t.scope, '{admin}'))
                AND (person_id IS NULL OR (SELECT access_all('{admin}'))
                     OR person_id IN (SELECT access_persons('{admin}'))));
CREATE POLICY volunteer_activity_read ON volunteer_activity FOR SELECT TO gridmap_app USING (
    team_id IN (SELECT t.id FROM volunteer_team t));
CREATE POLICY volunteer_activity_insert ON volunteer_activity FOR INSERT TO gridmap_app WITH CHECK (
    team_id IN (SELECT t.id FROM volunteer_team t WHERE access_covers(t.scope, '{admin}')));
CREATE POLICY volunteer_hours_read ON volunteer_hours FOR SELECT TO gridmap_app USING (
    member_id IN (SELECT m.id FROM volunteer_member m));
CREATE POLICY volunteer_hours_insert ON volunteer_hours FOR INSERT TO gridmap_app WITH CHECK (
    team_id IN (SELECT t.id FROM volunteer_team t WHERE access_covers(t.scope, '{admin}')));

------------------------------------------------------------------------------------------------------
-- Honour and red/black lists
------------------------------------------------------------------------------------------------------
CREATE TABLE honour_kind (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name_zh text NOT NULL,
    name_en text NOT NULL,
    subject text NOT NULL CHECK (subject IN ('place', 'unit', 'household', 'person'))
);
INSERT INTO honour_kind VALUES
    ('food_trade', '餐饮行业红黑榜', 'food trades red/black list', 'place'),
    ('public_place', '公共场所红黑榜', 'public places red/black list', 'place'),
    ('service_window', '窗口单位红黑榜', 'service windows red/black list', 'unit'),
    ('civilised_household', '十文明户', 'ten civilised households', 'household'),
    ('beautiful_family', '最美家庭', 'most beautiful families', 'household'),
    ('filial_piety', '孝道红黑榜', 'filial piety red/black list', 'person');

-- One version of a list. ``series`` names the list across its versions (e.g. 2026年第二季度 of a
-- community); a new version supersedes the one before. ``public``: an admin approved this version for
-- the public page (households and persons redacted there).
CREATE TABLE honour_list (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL REFERENCES honour_kind (code),
    scope        text NOT NULL CHECK (scope ~ '^[1-9][0-9]{8}([0-9]{3})?$'),  -- street or community
    series       text NOT NULL CHECK (btrim(series) <> '' AND length(series) <= 100),
    title        text NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200),
    version      integer NOT NULL DEFAULT 1 CHECK (version > 0),
    supersedes   bigint UNIQUE REFERENCES honour_list (id) ON DELETE RESTRICT,
    state        text NOT NULL DEFAULT 'drafted' CHECK (state IN ('drafted', 'approved', 'published')),
    public       boolean NOT NULL DEFAULT false,
    drafted_by   text NOT NULL,
    drafted_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    approved_by  text,
    approved_at  timestamptz,
    published_by text,
    published_at timestamptz,
    CONSTRAINT honour_list_version_once UNIQUE (kind, scope, series, version),
    CONSTRAINT honour_list_stamped CHECK (
        (state = 'drafted' OR approved_by IS NOT NULL) AND (state <> 'published' OR published_by IS NOT NULL))
);

CREATE TABLE honour_entry (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    list_id       bigint NOT NULL REFERENCES honour_list (id) ON DELETE CASCADE,
    colour        text NOT NULL CHECK (colour IN ('red', 'black')),
    -- the subject, exactly one, of the list's kind (checked by honour_entry_check). Households and
    -- persons carry no foreign key: a published list outlives a household that moves away.
    place_id      bigint REFERENCES place (id) ON DELETE RESTRICT,
    unit_id       bigint REFERENCES responsible_unit (id) ON DELETE RESTRICT,
    household_id  bigint,
    person_id     bigint,
    reason        text CHECK (length(reason) <= 1000),
    -- the evidence of a black entry
    violation_id  bigint REFERENCES violation (id) ON DELETE RESTRICT,
    inspection_id bigint REFERENCES inspection (id) ON DELETE RESTRICT,
    report_id     bigint,  -- table report (migration 022) when it exists: checked by the trigger
    -- what the lists show, taken when the entry is made: the name, and the redacted name and the
    -- building for the public page (张**家, 3号楼)
    label         text NOT NULL,
    public_label  text NOT NULL,
    public_where  text,
    CONSTRAINT honour_entry_one_subject CHECK (num_nonnulls(place_id, unit_id, household_id, person_id) = 1),
    CONSTRAINT honour_entry_black_has_evidence CHECK (
        colour <> 'black' OR num_nonnulls(violation_id, inspection_id, report_id) >= 1)
);
CREATE INDEX honour_entry_list_idx ON honour_entry (list_id);
CREATE INDEX honour_entry_household_idx ON honour_entry (household_id) WHERE household_id IS NOT NULL;

-- A list's life: drafted -> approved -> published (approved may go back to drafted). A published
-- version never changes and is never removed; the stamps are the acting user's.
CREATE FUNCTION honour_list_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    actor text := (SELECT a.username FROM audit_actor() a);
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'drafted' THEN
            RAISE EXCEPTION 'a list starts drafted' USING ERRCODE = 'check_violation', COLUMN = 'state';
        END IF;
        NEW.drafted_by := coalesce(actor, current_user);
        NEW.drafted_at := clock_timestamp();
        NEW.approved_by := NULL; NEW.published_by := NULL; NEW.approved_at := NULL; NEW.published_at := NULL;
        IF NEW.supersedes IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM honour_list o WHERE o.id = NEW.supersedes AND o.state = 'published'
                  AND o.kind = NEW.kind AND o.scope = NEW.scope AND o.series = NEW.series) THEN
            RAISE EXCEPTION 'a new version supersedes a published version of the same list'
                USING ERRCODE = 'check_violation', COLUMN = 'supersedes';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.state = 'published' THEN
        RAISE EXCEPTION 'honour list % is published: it never changes; publish a new version', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF (NEW.kind, NEW.scope, NEW.series, NEW.version, NEW.supersedes)
            IS DISTINCT FROM (OLD.kind, OLD.scope, OLD.series, OLD.version, OLD.supersedes) THEN
        RAISE EXCEPTION 'a list keeps its kind, area, series and version' USING ERRCODE = 'check_violation';
    END IF;
    IF NOT (OLD.state, NEW.state) IN (('drafted', 'drafted'), ('drafted', 'approved'),
                                      ('approved', 'drafted'), ('approved', 'published')) THEN
        RAISE EXCEPTION 'a % list cannot become %', OLD.state, NEW.state
            USING ERRCODE = 'check_violation', COLUMN = 'state';
    END IF;
    NEW.drafted_by := OLD.drafted_by; NEW.drafted_at := OLD.drafted_at;
    IF NEW.state = 'approved' AND OLD.state = 'drafted' THEN
        NEW.approved_by := coalesce(actor, current_user); NEW.approved_at := clock_timestamp();
    ELSIF NEW.state = 'drafted' THEN
        NEW.approved_by := NULL; NEW.approved_at := NULL;
    ELSE
        NEW.approved_by := OLD.approved_by; NEW.approved_at := OLD.approved_at;
    END IF;
    IF NEW.state = 'published' THEN
        IF NEW.public IS DISTINCT FROM OLD.public THEN
            RAISE EXCEPTION 'whether a list is public is approved with it' USING ERRCODE = 'check_violation';
        END IF;
        NEW.published_by := coalesce(actor, current_user); NEW.published_at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER honour_list_guard BEFORE INSERT OR UPDATE OR DELETE ON honour_list
    FOR EACH ROW EXECUTE FUNCTION honour_list_guard();

-- An entry is written while its list is drafted only (approved content is what was approved; a
-- published list never changes), names a subject of the list's kind, and a black entry's evidence is
-- a closed violation, an inspection that found one, or a closed report. The labels are taken here.
CREATE FUNCTION honour_entry_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    list honour_list;
    subject text;
    proven boolean;
    head text;
BEGIN
    SELECT * INTO list FROM honour_list WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.list_id
                                                        ELSE NEW.list_id END;
    IF list.state IS DISTINCT FROM 'drafted' AND list.id IS NOT NULL THEN
        RAISE EXCEPTION 'honour list % is %: its entries never change', list.id, list.state
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.list_id <> OLD.list_id THEN
        RAISE EXCEPTION 'an entry stays in its list' USING ERRCODE = 'check_violation';
    END IF;
    subject := (SELECT k.subject FROM honour_kind k WHERE k.code = list.kind);
    IF (subject = 'place' AND NEW.place_id IS NULL) OR (subject = 'unit' AND NEW.unit_id IS NULL)
       OR (subject = 'household' AND NEW.household_id IS NULL)
       OR (subject = 'person' AND NEW.person_id IS NULL) THEN
        RAISE EXCEPTION 'a % list names a % (%_id)', list.kind, subject, subject
            USING ERRCODE = 'check_violation', COLUMN = subject || '_id';
    END IF;
    IF NEW.colour = 'black' THEN
        proven := false;
        IF NEW.violation_id IS NOT NULL THEN
            proven := EXISTS (SELECT 1 FROM violation v WHERE v.id = NEW.violation_id AND v.status = 'closed'
                              AND (NEW.place_id IS NULL OR v.place_id = NEW.place_id));
            IF NOT proven THEN
                RAISE EXCEPTION 'violation % is not a closed violation of this place', NEW.violation_id
                    USING ERRCODE = 'check_violation', COLUMN = 'violation_id';
            END IF;
        END IF;
        IF NEW.inspection_id IS NOT NULL THEN
            proven := EXISTS (SELECT 1 FROM inspection i WHERE i.id = NEW.inspection_id
                              AND i.result IN ('violation', 'rectified', 'closed_down')
                              AND (NEW.place_id IS NULL OR i.place_id = NEW.place_id));
            IF NOT proven THEN
                RAISE EXCEPTION 'inspection % found no violation at this place', NEW.inspection_id
                    USING ERRCODE = 'check_violation', COLUMN = 'inspection_id';
            END IF;
        END IF;
        IF NEW.report_id IS NOT NULL THEN
            -- reports (migration 022) may not exist in this database yet: looked up by name
            IF to_regclass('public.report') IS NULL THEN
                RAISE EXCEPTION 'reports are not kept here yet' USING ERRCODE = 'check_violation',
                    COLUMN = 'report_id';
            END IF;
            BEGIN
                EXECUTE 'SELECT EXISTS (SELECT 1 FROM report r WHERE r.id = $1 AND r.state = ''closed'')'
                    INTO proven USING NEW.report_id;
            EXCEPTION WHEN undefined_column THEN
                proven := false;
            END;
            IF NOT proven THEN
                RAISE EXCEPTION 'report % is not a closed report', NEW.report_id
                    USING ERRCODE = 'check_violation', COLUMN = 'report_id';
            END IF;
        END IF;
    END IF;
    -- labels: the place's or unit's name; a household by its head's surname, a person by theirs
    IF NEW.place_id IS NOT NULL THEN
        SELECT p.name, p.name, p.address INTO NEW.label, NEW.public_label, NEW.public_where
        FROM place p WHERE p.id = NEW.place_id;
    ELSIF NEW.unit_id IS NOT NULL THEN
        SELECT u.name, u.name, NULL INTO NEW.label, NEW.public_label, NEW.public_where
        FROM responsible_unit u WHERE u.id = NEW.unit_id;
    ELSIF NEW.household_id IS NOT NULL THEN
        SELECT (SELECT p.name FROM person p WHERE p.household_id = h.id
                ORDER BY p.relation <> 'head', p.id LIMIT 1), h.building
        INTO head, NEW.public_where FROM household h WHERE h.id = NEW.household_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'household % is not one you may name', NEW.household_id
                USING ERRCODE = 'foreign_key_violation', COLUMN = 'household_id';
        END IF;
        NEW.label := coalesce(head, '?') || '家';
        NEW.public_label := coalesce(left(head, 1), '') || '**家';
    ELSE
        SELECT p.name, h.building INTO head, NEW.public_where
        FROM person p JOIN household h ON h.id = p.household_id WHERE p.id = NEW.person_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'person % is not one you may name', NEW.person_id
                USING ERRCODE = 'foreign_key_violation', COLUMN = 'person_id';
        END IF;
        NEW.label := head;
        NEW.public_label := left(head, 1) || '**';
    END IF;
    IF NEW.label IS NULL THEN
        RAISE EXCEPTION 'the entry''s subject does not exist' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER honour_entry_check BEFORE INSERT OR UPDATE OR DELETE ON honour_entry
    FOR EACH ROW EXECUTE FUNCTION honour_entry_check();

-- Households taking part in the selection (参评) of a year, and the share each community should reach.
CREATE TABLE honour_participation (
    household_id bigint NOT NULL REFERENCES household (id) ON DELETE CASCADE,
    year         smallint NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    recorded_by  text NOT NULL DEFAULT coalesce((audit_actor()).username, current_user),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_id, year)
);
CREATE TABLE honour_participation_target (
    scope text PRIMARY KEY CHECK (scope ~ '^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$'),
    share numeric(4, 3) NOT NULL CHECK (share > 0 AND share <= 1)
);
INSERT INTO honour_participation_target VALUES ('', 0.8);

-- Lists: drafts and approved versions seen by the admins and grid workers of their area, written by
-- its admins; entries about households and persons under the register's rules, others with their list.
ALTER TABLE honour_list ENABLE ROW LEVEL SECURITY;
ALTER TABLE honour_entry ENABLE ROW LEVEL SECURITY;
ALTER TABLE honour_participation ENABLE ROW LEVEL SECURITY;
CREATE POLICY honour_list_read ON honour_list FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}')) OR campaign_scope_seen(scope, '{admin,grid_worker}'));
CREATE POLICY honour_list_write ON honour_list FOR ALL TO gridmap_app
    USING (access_covers(scope, '{admin}')) WITH CHECK (access_covers(scope, '{admin}'));
CREATE POLICY honour_entry_read ON honour_entry FOR SELECT TO gridmap_app USING (
    list_id IN (SELECT l.id FROM honour_list l)
    AND ((household_id IS NULL AND person_id IS NULL)
         OR (SELECT access_all('{admin,grid_worker}'))
         OR household_id IN (SELECT access_households('{admin,grid_worker}'))
         OR person_id IN (SELECT access_persons('{admin,grid_worker}'))));
CREATE POLICY honour_entry_write ON honour_entry FOR ALL TO gridmap_app
    USING (list_id IN (SELECT l.id FROM honour_list l WHERE access_covers(l.scope, '{admin}')))
    WITH CHECK (list_id IN (SELECT l.id FROM honour_list l WHERE access_covers(l.scope, '{admin}'))
                AND ((household_id IS NULL AND person_id IS NULL) OR (SELECT access_all('{admin}'))
                     OR household_id IN (SELECT access_households('{admin}'))
                     OR person_id IN (SELECT access_persons('{admin}'))));
CREATE POLICY honour_participation_read ON honour_participation FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR household_id IN (SELECT access_households('{admin,grid_worker}')));
CREATE POLICY honour_participation_write ON honour_participation FOR ALL TO gridmap_app
    USING ((SELECT access_all('{admin,grid_worker}'))
           OR household_id IN (SELECT access_households('{admin,grid_worker}')))
    WITH CHECK ((SELECT access_all('{admin,grid_worker}'))
                OR household_id IN (SELECT access_households('{admin,grid_worker}')));

-- The public page's rows: the published, public versions not superseded by a published one, with
-- the redacted labels only (never a name of a resident, never an address beyond the building).
CREATE FUNCTION honour_public(prefix text DEFAULT '')
RETURNS TABLE (list_id bigint, kind text, kind_zh text, scope text, series text, title text,
               version integer, published_at timestamptz, colour text, label text, place text,
               reason text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT l.id, l.kind, k.name_zh, l.scope, l.series, l.title, l.version, l.published_at, e.colour,
           e.public_label, e.public_where,
           CASE WHEN e.household_id IS NULL AND e.person_id IS NULL THEN e.reason END
    FROM honour_list l
    JOIN honour_kind k ON k.code = l.kind
    LEFT JOIN honour_entry e ON e.list_id = l.id
    WHERE l.state = 'published' AND l.public AND starts_with(l.scope, prefix)
      AND NOT EXISTS (SELECT 1 FROM honour_list n WHERE n.supersedes = l.id AND n.state = 'published')
    ORDER BY l.scope, l.kind, l.series, e.colour DESC, e.id
$$;
REVOKE EXECUTE ON FUNCTION honour_public(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION honour_public(text) TO gridmap_app;

-- Households per community (through their grid) and those taking part in ``year``, for the share:
-- counts, never rows; over the communities under ``prefix`` that the acting user counts.
CREATE FUNCTION honour_participation_share(prefix text, year integer)
RETURNS TABLE (community_code text, households bigint, taking_part bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT g.community_code, count(h.id), count(hp.household_id)
    FROM grid g
    JOIN household h ON h.grid_code = g.code
    LEFT JOIN honour_participation hp ON hp.household_id = h.id AND hp.year = honour_participation_share.year
    WHERE starts_with(g.code, prefix)
      AND (access_caller_sees_all() OR access_holds(g.community_code, '{admin,grid_worker,viewer}')
           OR campaign_scope_seen(g.community_code, '{admin,grid_worker}'))
    GROUP BY g.community_code
$$;
REVOKE EXECUTE ON FUNCTION honour_participation_share(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION honour_participation_share(text, integer) TO gridmap_app;

-- What the service may do: add sessions, activities and hours (evidence: never changed or removed);
-- edit facilities, teams, members, lists and entries under the policies above; read vocabularies and
-- targets (data the owner edits).
REVOKE ALL ON facility_kind, facility_target, facility_session, facility_session_photo, volunteer_activity,
    volunteer_hours, honour_kind, honour_participation_target FROM gridmap_app;
GRANT SELECT ON facility_kind, facility_target, honour_kind, honour_participation_target TO gridmap_app;
GRANT SELECT, INSERT ON facility_session, facility_session_photo, volunteer_activity, volunteer_hours
    TO gridmap_app;
REVOKE DELETE ON facility FROM gridmap_app;  -- a facility closes (active = false), its sessions stay
-- a member leaves (left_on) and a team stays: their hours are evidence, never removed by a cascade
REVOKE DELETE ON volunteer_team, volunteer_member FROM gridmap_app;
GRANT EXECUTE ON FUNCTION campaign_scope_seen(text, text[]) TO gridmap_app;

-- Evidence and the quarterly assessment (创建资料与季度考核, issue 16 part C).
--
-- Evidence items (佐证材料): photos, documents and spreadsheets kept once by their content's SHA-256 in
-- the data folder's media/ tree (photos through the media store, migration 016; other files in
-- evidence_file here), each row saying what it evidences (a scoring item, a record), the community and
-- the quarter; recorded_by stamped from the signed-in user. Append-only: an UPDATE, DELETE or TRUNCATE
-- is refused by trigger (for the owner too) and the service holds no such privilege; a correction is
-- a new row that supersedes the old one. The records' own photos (duty days, frontage checks, compound
-- tasks, facility sessions, reports, inspections, visits) are evidence without being uploaded again:
-- gis/assessment/record_photos.sql lists them for a quarter and community (no trigger copies them).
--
-- The scoring sheet (考核评分细则) of a quarter and street: its items with their points and how each is
-- measured; an item the system can measure names a live figure (gis/assessment/figures.py) and a target.
-- A submission (报送) freezes, per community, the filled figures and the evidence list; the frozen row
-- never changes and the ZIP bundle (the street's copy) is rebuilt from it byte for byte.

-- Files that are not photos (PDF, Office documents, spreadsheets, CSV): their bytes lie in the same
-- content-addressed tree as the photos (media/ab/cdef...); the type is judged by content on the way in.
CREATE TABLE evidence_file (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    mime       text NOT NULL CHECK (mime IN (
        'application/pdf', 'text/csv', 'text/plain',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/vnd.openxmlformats-officedocument.presentationml.presentation')),
    bytes      bigint NOT NULL CHECK (bytes > 0),
    stored_at  timestamptz NOT NULL DEFAULT now(),
    stored_by  text NOT NULL CHECK (btrim(stored_by) <> '')
);

CREATE TABLE assessment_sheet (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quarter       text NOT NULL CHECK (quarter ~ '^20[0-9]{2}Q[1-4]$'),
    -- the street (9 digits) whose communities the sheet scores, or a district (6)
    scope         text NOT NULL CHECK (scope ~ '^[1-9][0-9]{5}([0-9]{3})?$'),
    title         text NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200),
    source_sha256 text NOT NULL REFERENCES evidence_file (sha256),  -- the workbook as imported
    imported_by   text NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT assessment_sheet_once UNIQUE (quarter, scope)
);

CREATE TABLE assessment_item (
    sheet_id  bigint NOT NULL REFERENCES assessment_sheet (id) ON DELETE RESTRICT,
    item_no   text NOT NULL CHECK (item_no ~ '^[0-9]{1,3}(\.[0-9]{1,3})?$'),
    position  integer NOT NULL,  -- the row order of the sheet
    section   text NOT NULL CHECK (btrim(section) <> '' AND length(section) <= 200),
    content   text NOT NULL CHECK (btrim(content) <> '' AND length(content) <= 2000),
    points    numeric(6, 2) NOT NULL CHECK (points > 0),
    measure   text NOT NULL CHECK (length(measure) <= 2000),  -- 考核方式, as written
    figure    text CHECK (figure ~ '^[a-z][a-z0-9_]{1,59}$'),  -- a live figure (gis/assessment/figures.py)
    target    numeric,
    direction text CHECK (direction IN ('>=', '<=')),  -- met when figure >= target (or <=)
    -- the records whose photos count as this item's evidence (record_photos.sql kinds)
    evidence_from text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (sheet_id, item_no),
    CONSTRAINT assessment_item_target CHECK ((target IS NULL) = (direction IS NULL)
                                             AND (target IS NULL OR figure IS NOT NULL))
);

CREATE TABLE evidence_item (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quarter        text NOT NULL CHECK (quarter ~ '^20[0-9]{2}Q[1-4]$'),
    community_code text NOT NULL REFERENCES community (code) ON UPDATE CASCADE ON DELETE RESTRICT,
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    kind           text NOT NULL CHECK (kind IN ('photo', 'document', 'spreadsheet')),
    mime           text NOT NULL,
    file_name      text CHECK (length(file_name) <= 255),
    title          text NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 300),
    item_no        text CHECK (item_no ~ '^[0-9]{1,3}(\.[0-9]{1,3})?$'),  -- the scoring item it evidences
    record_kind    text CHECK (record_kind IN ('duty_record', 'frontage_check', 'compound_task',
                                               'facility_session', 'volunteer_activity', 'report',
                                               'inspection', 'visit')),
    record_id      bigint CHECK (record_id > 0),
    supersedes     bigint UNIQUE REFERENCES evidence_item (id),  -- one successor per row
    recorded_by_id bigint,  -- no foreign key: evidence outlives accounts; NULL: the owner's session
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT evidence_item_what CHECK (item_no IS NOT NULL OR record_kind IS NOT NULL),
    CONSTRAINT evidence_item_record CHECK ((record_kind IS NULL) = (record_id IS NULL))
);
CREATE INDEX evidence_item_quarter_idx ON evidence_item (quarter, community_code);

CREATE TABLE assessment_freeze (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sheet_id        bigint NOT NULL REFERENCES assessment_sheet (id) ON DELETE RESTRICT,
    community_code  text NOT NULL REFERENCES community (code) ON UPDATE CASCADE ON DELETE RESTRICT,
    measured_on     date NOT NULL,   -- the day the figures were read for
    figures         jsonb NOT NULL,  -- per item: figure, value, endpoint (gis/assessment/freeze.py)
    evidence        jsonb NOT NULL,  -- the files: sha256, path, bytes, what they evidence
    manifest_sha256 text NOT NULL CHECK (manifest_sha256 ~ '^[0-9a-f]{64}$'),
    frozen_by_id    bigint,
    frozen_by       text NOT NULL,
    frozen_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT assessment_freeze_once UNIQUE (sheet_id, community_code)
);

-- Stamps the acting user (the owner's own sessions — the CLI — write what they say, as migration 023)
-- and checks what a row points at; refuses every change and removal.
CREATE FUNCTION assessment_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    uid bigint;
    uname text;
    old_row evidence_item;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION '% rows are never changed or removed: add a row that supersedes it', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    SELECT a.user_id, a.username INTO uid, uname FROM audit_actor() a;
    IF uid IS NULL AND NOT access_owner_session() THEN
        RAISE EXCEPTION '% needs a signed-in user', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_TABLE_NAME = 'evidence_item' THEN
        IF uid IS NOT NULL THEN NEW.recorded_by_id := uid; NEW.recorded_by := uname;
        ELSE NEW.recorded_by_id := NULL; NEW.recorded_by := coalesce(NEW.recorded_by, current_user); END IF;
        NEW.recorded_at := clock_timestamp();
        IF NOT EXISTS (SELECT 1 FROM media m WHERE m.sha256 = NEW.sha256)
           AND NOT EXISTS (SELECT 1 FROM evidence_file f WHERE f.sha256 = NEW.sha256) THEN
            RAISE EXCEPTION 'no stored file %', NEW.sha256 USING ERRCODE = 'foreign_key_violation',
                COLUMN = 'sha256';
        END IF;
        IF NEW.supersedes IS NOT NULL THEN
            SELECT * INTO old_row FROM evidence_item WHERE id = NEW.supersedes;
            IF NOT FOUND OR old_row.quarter <> NEW.quarter OR old_row.community_code <> NEW.community_code THEN
                RAISE EXCEPTION 'a new row supersedes evidence of the same quarter and community'
                    USING ERRCODE = 'check_violation', COLUMN = 'supersedes';
            END IF;
        END IF;
    ELSIF TG_TABLE_NAME = 'assessment_freeze' THEN
        IF uid IS NOT NULL THEN NEW.frozen_by_id := uid; NEW.frozen_by := uname;
        ELSE NEW.frozen_by_id := NULL; NEW.frozen_by := coalesce(NEW.frozen_by, current_user); END IF;
    ELSIF TG_TABLE_NAME = 'assessment_sheet' THEN
        NEW.imported_by := coalesce(uname, NEW.imported_by, current_user);
        NEW.imported_at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION assessment_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER evidence_item_append_only BEFORE INSERT OR UPDATE OR DELETE ON evidence_item
    FOR EACH ROW EXECUTE FUNCTION assessment_append_only();
CREATE TRIGGER assessment_freeze_append_only BEFORE INSERT OR UPDATE OR DELETE ON assessment_freeze
    FOR EACH ROW EXECUTE FUNCTION assessment_append_only();
CREATE TRIGGER assessment_sheet_append_only BEFORE INSERT OR UPDATE OR DELETE ON assessment_sheet
    FOR EACH ROW EXECUTE FUNCTION assessment_append_only();
CREATE TRIGGER evidence_item_no_truncate BEFORE TRUNCATE ON evidence_item
    FOR EACH STATEMENT EXECUTE FUNCTION assessment_no_truncate();
CREATE TRIGGER assessment_freeze_no_truncate BEFORE TRUNCATE ON assessment_freeze
    FOR EACH STATEMENT EXECUTE FUNCTION assessment_no_truncate();

-- An item of a sheet is written with its sheet; once a community of it is frozen the items never change.
CREATE FUNCTION assessment_item_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'a scoring sheet is imported whole and never changed' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER assessment_item_guard BEFORE INSERT OR UPDATE OR DELETE ON assessment_item
    FOR EACH ROW EXECUTE FUNCTION assessment_item_guard();

-- Row-level security. Sheets are the street's: every campaign role reads them, admins over the scope
-- import them. Evidence and submissions are a community's: read by the admins, grid workers, planners
-- and viewers whose scope holds it or lies in it; evidence added by its admins and grid workers,
-- submissions made by its admins.
ALTER TABLE assessment_sheet ENABLE ROW LEVEL SECURITY;
ALTER TABLE assessment_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE assessment_freeze ENABLE ROW LEVEL SECURITY;
CREATE POLICY assessment_sheet_read ON assessment_sheet FOR SELECT TO gridmap_app USING (
    (SELECT access_any('{admin,grid_worker,planner,viewer}')));
CREATE POLICY assessment_sheet_insert ON assessment_sheet FOR INSERT TO gridmap_app
    WITH CHECK (access_covers(scope, '{admin}'));
CREATE POLICY assessment_item_read ON assessment_item FOR SELECT TO gridmap_app USING (
    sheet_id IN (SELECT s.id FROM assessment_sheet s));
CREATE POLICY assessment_item_insert ON assessment_item FOR INSERT TO gridmap_app WITH CHECK (
    sheet_id IN (SELECT s.id FROM assessment_sheet s WHERE access_covers(s.scope, '{admin}')));
CREATE POLICY evidence_item_read ON evidence_item FOR SELECT TO gridmap_app USING (
    campaign_scope_seen(community_code, '{admin,grid_worker,planner,viewer}'));
CREATE POLICY evidence_item_insert ON evidence_item FOR INSERT TO gridmap_app WITH CHECK (
    campaign_scope_seen(community_code, '{admin,grid_worker}')
    AND (access_covers(community_code, '{admin}') OR EXISTS (
        SELECT 1 FROM unnest(access_scopes('{grid_worker}')) s WHERE starts_with(s, community_code))));
CREATE POLICY assessment_freeze_read ON assessment_freeze FOR SELECT TO gridmap_app USING (
    campaign_scope_seen(community_code, '{admin,grid_worker,planner,viewer}'));
CREATE POLICY assessment_freeze_insert ON assessment_freeze FOR INSERT TO gridmap_app
    WITH CHECK (access_covers(community_code, '{admin}'));

-- The service adds and reads; it never changes or removes (the triggers refuse the owner as well).
REVOKE ALL ON evidence_file, assessment_sheet, assessment_item, evidence_item, assessment_freeze
    FROM gridmap_app;
GRANT SELECT, INSERT ON evidence_file, assessment_sheet, assessment_item, evidence_item, assessment_freeze
    TO gridmap_app;

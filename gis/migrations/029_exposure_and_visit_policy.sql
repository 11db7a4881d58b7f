-- The public exposure board (曝光台, issue 14) and changes to the visit policy (走访频次).
--
-- 曝光台: an admin over a closed report's area publishes it for the public: a title, a public text she
-- writes (no names, no reporter, no unit contact: the page shows nothing else of the report but its
-- category, community and day), the photos she picks among the report's own, and a redaction note
-- (what she checked: faces, number plates). The public reads only live publications, through
-- exposure_public() (SECURITY DEFINER: the public reads no report). Unpublishing stamps the row and
-- keeps it (history); publishing the report again is a new row. Photos are served from the media
-- store's published copy, which carries no EXIF (gis/media/store.py).

CREATE TABLE report_exposure (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id         bigint NOT NULL REFERENCES report (id),
    title             text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 100),
    public_text       text NOT NULL CHECK (length(btrim(public_text)) BETWEEN 1 AND 2000),
    redaction_note    text NOT NULL CHECK (length(btrim(redaction_note)) BETWEEN 1 AND 1000),
    -- copied at publication: what the public sees does not change when the report's area does
    category          text NOT NULL,
    community_code    text NOT NULL,
    report_day        date NOT NULL,
    published_by      bigint NOT NULL,
    published_by_name text NOT NULL,
    published_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    unpublished_at    timestamptz,
    unpublished_by    bigint,
    unpublished_by_name text,
    unpublish_note    text CHECK (length(unpublish_note) <= 1000),
    CONSTRAINT report_exposure_unpublished_shape CHECK ((unpublished_at IS NULL) = (unpublished_by IS NULL))
);
-- one live publication per report
CREATE UNIQUE INDEX report_exposure_live ON report_exposure (report_id) WHERE unpublished_at IS NULL;
CREATE INDEX report_exposure_published_idx ON report_exposure (published_at DESC) WHERE unpublished_at IS NULL;

CREATE TABLE report_exposure_photo (
    exposure_id bigint NOT NULL REFERENCES report_exposure (id),
    sha256      text NOT NULL REFERENCES media (sha256),
    ordinal     smallint NOT NULL,
    PRIMARY KEY (exposure_id, sha256)
);

-- Publish a closed report (its admin): 42501 not an admin over its area, RP409 not closed or already
-- published, 22023 (DETAIL the field) a photo that is not the report's or an empty text.
CREATE FUNCTION exposure_publish(the_report bigint, title text, public_text text, redaction_note text,
                                 photos text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r public.report%ROWTYPE;
    who record;
    made bigint;
BEGIN
    SELECT a.user_id, a.username INTO who FROM audit_actor() a;
    IF who.user_id IS NULL THEN
        RAISE EXCEPTION 'publishing needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO r FROM public.report WHERE id = the_report FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'report % not found', the_report USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT report_admin_of(r.area_code) THEN
        RAISE EXCEPTION 'only an admin over the report''s area publishes it' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF r.state <> 'closed' THEN
        RAISE EXCEPTION 'only a closed report is published (this one is %)', r.state USING ERRCODE = 'RP409';
    END IF;
    IF EXISTS (SELECT 1 FROM report_exposure e WHERE e.report_id = r.id AND e.unpublished_at IS NULL) THEN
        RAISE EXCEPTION 'the report is published already' USING ERRCODE = 'RP409';
    END IF;
    IF coalesce(btrim(title), '') = '' OR length(btrim(title)) > 100 THEN
        RAISE EXCEPTION 'a title of 1 to 100 characters' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'title';
    END IF;
    IF coalesce(btrim(public_text), '') = '' OR length(btrim(public_text)) > 2000 THEN
        RAISE EXCEPTION 'the public text, 1 to 2000 characters' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'public_text';
    END IF;
    IF coalesce(btrim(redaction_note), '') = '' OR length(btrim(redaction_note)) > 1000 THEN
        RAISE EXCEPTION 'say what was checked (faces, number plates) before publishing'
              USING ERRCODE = 'invalid_parameter_value', DETAIL = 'redaction_note';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(coalesce(photos, '{}')) s
               WHERE NOT EXISTS (SELECT 1 FROM report_photo p WHERE p.report_id = r.id AND p.sha256 = s)) THEN
        RAISE EXCEPTION 'pick photos of this report only' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'photos';
    END IF;
    INSERT INTO report_exposure (report_id, title, public_text, redaction_note, category, community_code,
                                 report_day, published_by, published_by_name)
    VALUES (r.id, btrim(title), btrim(public_text), btrim(redaction_note), r.category, r.area_code,
            r.report_day, who.user_id, who.username)
    RETURNING id INTO made;
    INSERT INTO report_exposure_photo (exposure_id, sha256, ordinal)
    SELECT made, s, min(o) FROM unnest(coalesce(photos, '{}')) WITH ORDINALITY AS u(s, o) GROUP BY s;
    RETURN made;
END $$;

-- Take a publication down (its report's admin); the row stays, stamped.
CREATE FUNCTION exposure_unpublish(the_exposure bigint, note text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    e public.report_exposure%ROWTYPE;
    who record;
BEGIN
    SELECT a.user_id, a.username INTO who FROM audit_actor() a;
    IF who.user_id IS NULL THEN
        RAISE EXCEPTION 'unpublishing needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO e FROM public.report_exposure WHERE id = the_exposure FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'publication % not found', the_exposure USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT report_admin_of(e.community_code) THEN
        RAISE EXCEPTION 'only an admin over the report''s area unpublishes it'
              USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF e.unpublished_at IS NOT NULL THEN
        RAISE EXCEPTION 'unpublished already' USING ERRCODE = 'RP409';
    END IF;
    UPDATE public.report_exposure SET unpublished_at = clock_timestamp(), unpublished_by = who.user_id,
        unpublished_by_name = who.username, unpublish_note = nullif(btrim(note), '')
    WHERE id = e.id;
END $$;

-- The public's rows: live publications only, and only what the page shows (no report id, no names).
CREATE FUNCTION exposure_public() RETURNS TABLE (
    id bigint, title text, public_text text, category text, category_zh text, category_en text,
    community_name text, report_day date, published_at timestamptz, photos text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT e.id, e.title, e.public_text, e.category, c.name_zh, c.name_en, co.name, e.report_day, e.published_at,
           coalesce((SELECT array_agg(p.sha256 ORDER BY p.ordinal) FROM report_exposure_photo p
                     WHERE p.exposure_id = e.id), '{}')
    FROM report_exposure e JOIN report_category c ON c.code = e.category
    LEFT JOIN community co ON co.code = e.community_code
    WHERE e.unpublished_at IS NULL
    ORDER BY e.published_at DESC, e.id DESC
$$;

-- Staff read the publications (live and past) of the reports they read.
ALTER TABLE report_exposure ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_exposure_photo ENABLE ROW LEVEL SECURITY;
CREATE POLICY report_exposure_read ON report_exposure FOR SELECT TO gridmap_app USING (
    report_id IN (SELECT r.id FROM report r) AND report_admin_of(community_code));
CREATE POLICY report_exposure_photo_read ON report_exposure_photo FOR SELECT TO gridmap_app USING (
    exposure_id IN (SELECT e.id FROM report_exposure e));
REVOKE ALL ON report_exposure, report_exposure_photo FROM gridmap_app;
GRANT SELECT ON report_exposure, report_exposure_photo TO gridmap_app;
REVOKE EXECUTE ON FUNCTION exposure_publish(bigint, text, text, text, text[]), exposure_unpublish(bigint, text),
    exposure_public() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exposure_publish(bigint, text, text, text, text[]), exposure_unpublish(bigint, text),
    exposure_public() TO gridmap_app;

-- 走访频次: an admin changes a group's interval (the policy holds everywhere, so every change is kept,
-- with who and when, and the page says so) (the service reads visit_policy; it writes only through
-- visit_policy_set).
CREATE TABLE visit_policy_change (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_code    text NOT NULL REFERENCES visit_policy (group_code) ON DELETE CASCADE,
    old_days      integer NOT NULL,
    new_days      integer NOT NULL,
    note          text CHECK (length(note) <= 1000),
    actor_id      bigint NOT NULL,
    actor         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX visit_policy_change_group_idx ON visit_policy_change (group_code, id);

-- 42501 not an admin; 22023 (DETAIL) an interval out of range; no_data_found an
-- unknown group. Returns the change's id (NULL when the interval is unchanged: nothing recorded).
CREATE FUNCTION visit_policy_set(the_group text, days integer, note text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    who record;
    old integer;
    made bigint;
BEGIN
    SELECT a.user_id, a.username INTO who FROM audit_actor() a;
    IF who.user_id IS NULL OR NOT (access_caller_sees_all() OR access_any('{admin}')) THEN
        RAISE EXCEPTION 'an admin changes the visit policy'
              USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF days IS NULL OR days NOT BETWEEN 1 AND 3660 THEN
        RAISE EXCEPTION 'between 1 and 3660 days' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'interval_days';
    END IF;
    SELECT interval_days INTO old FROM visit_policy WHERE group_code = the_group FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'visit policy group % not found', the_group USING ERRCODE = 'no_data_found';
    END IF;
    IF old = days THEN
        RETURN NULL;
    END IF;
    UPDATE visit_policy SET interval_days = days WHERE group_code = the_group;
    INSERT INTO visit_policy_change (group_code, old_days, new_days, note, actor_id, actor)
    VALUES (the_group, old, days, nullif(btrim(note), ''), who.user_id, who.username)
    RETURNING id INTO made;
    RETURN made;
END $$;
REVOKE ALL ON visit_policy_change FROM gridmap_app;
GRANT SELECT ON visit_policy_change TO gridmap_app;
REVOKE EXECUTE ON FUNCTION visit_policy_set(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION visit_policy_set(text, integer, text) TO gridmap_app;

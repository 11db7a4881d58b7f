-- The school perimeter (校园周边200米): schools, places (businesses) with their licences, the rules
-- (data, per region) and the inspectors' record: inspections and violations with their history.
-- Geometries in EPSG:4326 with GiST indexes.

CREATE TABLE school_level (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO school_level VALUES
    ('kindergarten', '幼儿园', 'kindergarten'),
    ('primary', '小学', 'primary school'),
    ('middle', '初中', 'middle school'),
    ('high', '高中', 'high school'),
    ('vocational', '职业学校', 'vocational school');

-- A school is an area (its campus boundary); a point is accepted when no boundary is known.
-- Gates (校门) are needed only by rules measured entrance to entrance.
CREATE TABLE school (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref   text UNIQUE,
    name  text NOT NULL CHECK (btrim(name) <> ''),
    level text NOT NULL REFERENCES school_level (code),
    geom  geometry(Geometry, 4326) NOT NULL
          CHECK (ST_IsValid(geom) AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON', 'POINT')),
    gates geometry(MultiPoint, 4326)
);
CREATE INDEX school_geom_idx ON school USING gist (geom);

CREATE TABLE place_category (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO place_category VALUES
    ('internet_cafe', '网吧', 'internet cafe'),
    ('game_hall', '游戏厅', 'game hall'),
    ('mahjong_parlor', '麻将馆', 'mahjong parlour'),
    ('entertainment', '歌舞娱乐', 'singing and dancing venue'),
    ('bar', '酒吧', 'bar'),
    ('tobacco', '烟草零售', 'tobacco retail'),
    ('lottery', '彩票', 'lottery shop'),
    ('publication_shop', '出版物', 'publication shop'),
    ('food_shop', '食品店', 'food shop'),
    ('small_shop', '五小门店', 'small shop'),
    ('restaurant', '餐馆', 'restaurant'),
    ('other', '其他', 'other');

-- A place's geometry is its entrance (门口), where both measuring methods start.
CREATE TABLE place (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref      text UNIQUE,
    name     text NOT NULL CHECK (btrim(name) <> ''),
    category text NOT NULL REFERENCES place_category (code),
    address  text,
    geom     geometry(Point, 4326) NOT NULL
);
CREATE INDEX place_geom_idx ON place USING gist (geom);
CREATE INDEX place_category_idx ON place (category);

CREATE TABLE licence (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    place_id    bigint NOT NULL REFERENCES place (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (btrim(kind) <> ''),
    number      text,
    valid_until date,                       -- NULL: no expiry
    displayed   boolean NOT NULL DEFAULT false  -- 亮证经营
);
CREATE INDEX licence_place_idx ON licence (place_id);

-- Rules are data. region: 'national' or an administrative code prefix (2 = province, 4 = city,
-- 6 = county, 9 = street, 12 = community) matched against the code of the community a place lies in.
-- For one (category, school level) the most specific region that has rules wins, so a province
-- can replace the national distance or method without copying the whole set.
CREATE TABLE perimeter_rule (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region        text NOT NULL DEFAULT 'national' CHECK (region = 'national' OR region ~ '^[0-9]{2,12}$'),
    category      text NOT NULL REFERENCES place_category (code),
    school_levels text[] NOT NULL CHECK (cardinality(school_levels) > 0),
    distance_m    double precision NOT NULL CHECK (distance_m > 0 AND distance_m <= 2000),
    kind          text NOT NULL CHECK (kind IN ('forbidden', 'licence_required')),
    method        text NOT NULL DEFAULT 'boundary' CHECK (method IN ('boundary', 'entrance')),
    note          text,
    UNIQUE (region, category, kind, school_levels)
);

INSERT INTO perimeter_rule (region, category, school_levels, distance_m, kind, method, note) VALUES
    ('national', 'internet_cafe', '{primary,middle}', 200, 'forbidden', 'boundary',
     '互联网上网服务营业场所管理条例 第九条; measured from any point of the campus boundary'),
    ('national', 'publication_shop', '{primary,middle}', 200, 'licence_required', 'boundary',
     '证照齐全、亮证经营'),
    ('national', 'food_shop', '{primary,middle}', 200, 'licence_required', 'boundary',
     '证照齐全、亮证经营'),
    ('national', 'small_shop', '{primary,middle}', 200, 'licence_required', 'boundary',
     '证照齐全、亮证经营');

-- Places of a category some rule names, in their own table: the check joins schools against
-- these instead of every business in the city. suspect_from is the first day the place can break a
-- rule: always (1900-01-01) for a category some rule forbids or a place with no displayed licence,
-- else the day after its last displayed licence expires (9999-12-31: no expiry). The two-column
-- GiST index (btree_gist) finds "near this school and suspect on the check day" in one probe.
-- Sentinel dates, not +-infinity: btree_gist's penalty function cannot subtract infinite dates.
CREATE VIEW ruled_place_source AS
    SELECT p.id, p.ref, p.name, p.category, p.address, p.geom, l.licensed_until, l.any_licence_until,
           CASE WHEN p.category IN (SELECT category FROM perimeter_rule WHERE kind = 'forbidden')
                THEN DATE '1900-01-01'
                ELSE coalesce(l.licensed_until + 1, DATE '1900-01-01')
           END AS suspect_from
    FROM place p
    -- licensed_until: the last day a displayed licence is valid; any_licence_until: the same for any
    -- licence, displayed or not (9999-12-31: no expiry; NULL: none).
    LEFT JOIN LATERAL (
        SELECT max(coalesce(valid_until, DATE '9999-12-31')) FILTER (WHERE displayed) AS licensed_until,
               max(coalesce(valid_until, DATE '9999-12-31')) AS any_licence_until
        FROM licence WHERE licence.place_id = p.id
    ) l ON true
    WHERE p.category IN (SELECT category FROM perimeter_rule);

CREATE TABLE ruled_place AS SELECT * FROM ruled_place_source WITH NO DATA;
ALTER TABLE ruled_place ADD PRIMARY KEY (id);
CREATE INDEX ruled_place_geom_idx ON ruled_place USING gist (geom, suspect_from);

-- Kept current by statement-level triggers with transition tables: an import of 300,000 places is
-- one set-based insert, an inspector's licence edit touches one row. Rule edits rebuild it all.
CREATE FUNCTION ruled_place_resync(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM ruled_place WHERE id IN (SELECT unnest(ids));
    INSERT INTO ruled_place
    SELECT s.* FROM ruled_place_source s WHERE s.id IN (SELECT unnest(ids))
    ORDER BY ST_GeoHash(s.geom, 8);  -- neighbours on neighbouring pages: fewer page reads per probe
$$;

-- SECURITY DEFINER: TRUNCATE is the owner's privilege, and a rule edit by the service's
-- unprivileged role must still be able to rebuild.
CREATE FUNCTION ruled_place_rebuild() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    TRUNCATE ruled_place;
    INSERT INTO ruled_place SELECT * FROM ruled_place_source ORDER BY ST_GeoHash(geom, 8);
    RETURN NULL;
END $$;

CREATE FUNCTION ruled_place_after_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ruled_place_resync(ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM ruled_place_resync(ARRAY(SELECT id FROM new_rows UNION SELECT id FROM old_rows));
    ELSE
        DELETE FROM ruled_place WHERE id IN (SELECT id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ruled_place_after_licence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ruled_place_resync(ARRAY(SELECT DISTINCT place_id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM ruled_place_resync(ARRAY(SELECT place_id FROM new_rows UNION SELECT place_id FROM old_rows));
    ELSE
        PERFORM ruled_place_resync(ARRAY(SELECT DISTINCT place_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER place_ruled_insert AFTER INSERT ON place REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_after_place();
CREATE TRIGGER place_ruled_update AFTER UPDATE ON place REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_after_place();
CREATE TRIGGER place_ruled_delete AFTER DELETE ON place REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_after_place();
CREATE TRIGGER place_ruled_truncate AFTER TRUNCATE ON place
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_rebuild();
CREATE TRIGGER licence_ruled_insert AFTER INSERT ON licence REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_after_licence();
CREATE TRIGGER licence_ruled_update AFTER UPDATE ON licence REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_after_licence();
CREATE TRIGGER licence_ruled_delete AFTER DELETE ON licence REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_after_licence();
CREATE TRIGGER licence_ruled_truncate AFTER TRUNCATE ON licence
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_rebuild();
CREATE TRIGGER rule_ruled AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON perimeter_rule
    FOR EACH STATEMENT EXECUTE FUNCTION ruled_place_rebuild();

-- Local transverse Mercator systems (k = 1) registered on demand, one per centre rounded to
-- 0.25 degree: a registered SRID is cached by PostGIS, a proj string in ST_Transform is not.
CREATE SEQUENCE local_tm_srid_seq START 910001 MAXVALUE 998999;
CREATE TABLE local_tm (
    lon  numeric(7, 2) NOT NULL,
    lat  numeric(6, 2) NOT NULL,
    srid integer NOT NULL UNIQUE DEFAULT nextval('local_tm_srid_seq'),
    PRIMARY KEY (lon, lat)
);

-- Inspections (检查) of a place, and the violations found by the check with their life cycle.
CREATE TABLE inspection (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    place_id     bigint NOT NULL REFERENCES place (id) ON DELETE CASCADE,
    inspector    text NOT NULL CHECK (btrim(inspector) <> ''),
    inspected_at timestamptz NOT NULL DEFAULT now(),
    result       text NOT NULL CHECK (result IN ('compliant', 'violation', 'rectified', 'closed_down', 'absent')),
    note         text,
    photo        text                       -- file name under the data folder's photos/
);
CREATE INDEX inspection_place_idx ON inspection (place_id, inspected_at);

CREATE TABLE violation (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    place_id    bigint NOT NULL REFERENCES place (id) ON DELETE CASCADE,
    rule_id     bigint REFERENCES perimeter_rule (id) ON DELETE SET NULL,
    school_id   bigint REFERENCES school (id) ON DELETE SET NULL,
    distance_m  double precision NOT NULL,
    reason      text NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'notified', 'rectified', 'closed')),
    found_on    date NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- At most one violation per place is not closed: a re-check updates it instead of adding another.
CREATE UNIQUE INDEX violation_one_active_idx ON violation (place_id) WHERE status <> 'closed';

CREATE TABLE violation_event (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    violation_id  bigint NOT NULL REFERENCES violation (id) ON DELETE CASCADE,
    from_status   text,
    to_status     text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    inspection_id bigint REFERENCES inspection (id) ON DELETE SET NULL,
    note          text
);
CREATE INDEX violation_event_violation_idx ON violation_event (violation_id, at);

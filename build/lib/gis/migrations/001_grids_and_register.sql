-- The grid division and the register (一档一册): communities, grids, workers, buildings,
-- households, persons and their tags. Geometries in EPSG:4326 with GiST indexes.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- 12-digit community code: 6 county (GB/T 2260) + 3 street + 3 community.
CREATE TABLE community (
    code        text PRIMARY KEY CHECK (code ~ '^[1-9][0-9]{11}$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    street_name text,
    ref         text,
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX community_geom_idx ON community USING gist (geom);

-- 15-digit grid code = community code + 3-digit sequence (as DB11/T 2157-2023).
CREATE TABLE grid (
    code           text PRIMARY KEY CHECK (code ~ '^[1-9][0-9]{14}$'),
    community_code text NOT NULL REFERENCES community (code) ON UPDATE CASCADE ON DELETE RESTRICT,
    name           text NOT NULL CHECK (btrim(name) <> ''),
    ref            text,
    geom           geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CONSTRAINT grid_code_in_community CHECK (left(code, 12) = community_code)
);
CREATE INDEX grid_geom_idx ON grid USING gist (geom);
CREATE INDEX grid_community_idx ON grid (community_code);

-- Grid workers (网格员) and the grids they serve; a worker may serve several grids.
CREATE TABLE grid_worker (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name  text NOT NULL CHECK (btrim(name) <> ''),
    phone text,
    ref   text UNIQUE
);
CREATE TABLE grid_worker_grid (
    worker_id bigint NOT NULL REFERENCES grid_worker (id) ON DELETE CASCADE,
    grid_code text   NOT NULL REFERENCES grid (code) ON UPDATE CASCADE ON DELETE CASCADE,
    role      text   NOT NULL DEFAULT 'worker' CHECK (role IN ('worker', 'team')),
    PRIMARY KEY (worker_id, grid_code)
);
CREATE INDEX grid_worker_grid_grid_idx ON grid_worker_grid (grid_code);

CREATE TABLE building (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref       text UNIQUE,
    name      text NOT NULL,
    floors    integer CHECK (floors > 0),
    grid_code text REFERENCES grid (code) ON UPDATE CASCADE ON DELETE SET NULL,
    geom      geometry(Geometry, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX building_geom_idx ON building USING gist (geom);

-- Where a household stands relative to the division: inside one grid, on a shared border
-- (assigned to the lowest code, but reported), or outside every grid (reported, never dropped).
CREATE TYPE grid_placement AS ENUM ('inside', 'border', 'outside');

CREATE TABLE household (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref         text UNIQUE,
    address     text NOT NULL CHECK (btrim(address) <> ''),
    building    text,
    unit        text,
    room        text,
    grid_code   text REFERENCES grid (code) ON UPDATE CASCADE ON DELETE SET NULL,
    placement   grid_placement NOT NULL DEFAULT 'outside',
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    geom        geometry(Point, 4326) NOT NULL
);
CREATE INDEX household_geom_idx ON household USING gist (geom);
CREATE INDEX household_grid_idx ON household (grid_code);

-- Vocabularies (editable data, not code).
CREATE TABLE key_person_category (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO key_person_category VALUES
    ('community_correction', '社区矫正人员', 'community correction'),
    ('released_prisoner', '刑满释放人员', 'released prisoner'),
    ('severe_mental_disorder', '严重精神障碍患者', 'severe mental disorder'),
    ('drug_rehabilitation', '吸毒人员/社区戒毒', 'drug rehabilitation'),
    ('petitioner', '重点信访人员', 'key petitioner'),
    ('at_risk_youth', '重点青少年', 'at-risk youth'),
    ('cult_member', '邪教人员', 'cult member');

CREATE TABLE poverty_status (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);
INSERT INTO poverty_status VALUES
    ('dibao', '低保', 'minimum living allowance'),
    ('tekun', '特困', 'extreme hardship support'),
    ('dibao_edge', '低保边缘', 'near-minimum-allowance'),
    ('poverty_relief', '脱贫监测', 'monitored after poverty relief');

CREATE TABLE person (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref          text UNIQUE,
    household_id bigint NOT NULL REFERENCES household (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (btrim(name) <> ''),
    id_number    text UNIQUE CHECK (id_number ~ '^[0-9]{17}[0-9X]$'),
    phone        text CHECK (phone ~ '^[0-9+\-]{5,20}$'),
    sex          text CHECK (sex IN ('M', 'F')),
    birth_date   date,
    relation     text NOT NULL DEFAULT 'other'
                 CHECK (relation IN ('head', 'spouse', 'child', 'parent', 'grandchild', 'sibling', 'other')),
    residence    text NOT NULL DEFAULT 'registered' CHECK (residence IN ('registered', 'floating')),
    employment   text CHECK (employment IN ('employed', 'unemployed', 'retired', 'student', 'preschool', 'other')),
    poverty      text REFERENCES poverty_status (code),
    elderly_alone boolean NOT NULL DEFAULT false,
    disabled     boolean NOT NULL DEFAULT false,
    activist     boolean NOT NULL DEFAULT false,
    volunteer    boolean NOT NULL DEFAULT false,
    version      integer NOT NULL DEFAULT 1,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_household_idx ON person (household_id);

-- Key persons (重点人员) sit in their own table so that access to them can be narrowed
-- independently of the rest of the register.
CREATE TABLE key_person (
    person_id bigint PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    category  text NOT NULL REFERENCES key_person_category (code),
    since     date,
    note      text
);
CREATE INDEX key_person_category_idx ON key_person (category);

-- The grid a point falls in, and how: inside one grid, on a border (of one grid or between two;
-- assigned to the lowest code so it stays visible) or outside every grid. Written as an inlinable
-- SQL table function so that `INSERT ... SELECT ... CROSS JOIN LATERAL grid_for_point(geom)` stays one
-- set-based join on the GiST index of grid.
CREATE FUNCTION grid_for_point(p geometry)
RETURNS TABLE (grid_code text, placement grid_placement)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT min(g.code),
           CASE WHEN count(*) = 0 THEN 'outside'::grid_placement
                WHEN count(*) > 1 OR bool_or(ST_Touches(g.geom, p)) THEN 'border'::grid_placement
                ELSE 'inside'::grid_placement END
    FROM grid g
    WHERE ST_Intersects(g.geom, p)
$$;

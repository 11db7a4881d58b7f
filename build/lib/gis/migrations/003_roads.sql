-- Responsibility road sections (路段管理责任制, 门前三包): road centrelines, the sections they are
-- cut into, responsible units (责任单位) and who holds which section when. Geometries in EPSG:4326.

-- A road centreline as imported; ref is the road code that prefixes its section codes.
CREATE TABLE road (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref  text NOT NULL UNIQUE CHECK (ref ~ '^[A-Za-z0-9_.-]{1,40}$'),
    name text NOT NULL CHECK (btrim(name) <> ''),
    geom geometry(LineString, 4326) NOT NULL CHECK (ST_NPoints(ST_RemoveRepeatedPoints(geom)) >= 2)
);
CREATE INDEX road_geom_idx ON road USING gist (geom);

-- A stretch of one road. Re-cutting retires a section that has a history of assignments (kept
-- with its geometry) instead of deleting it, so "who held what" survives a re-cut.
CREATE TABLE road_section (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    road_id        bigint NOT NULL REFERENCES road (id) ON DELETE CASCADE,
    parent_id      bigint REFERENCES road_section (id) ON DELETE SET NULL,  -- the section it was cut from
    code           text NOT NULL,  -- road ref + '-' + 3-digit sequence; a cut section adds '-n'
    road_name      text NOT NULL,
    from_desc      text,
    to_desc        text,
    length_m       double precision NOT NULL CHECK (length_m >= 0),
    street_name    text,
    community_code text REFERENCES community (code) ON UPDATE CASCADE ON DELETE SET NULL,
    grid_code      text REFERENCES grid (code) ON UPDATE CASCADE ON DELETE SET NULL,
    grid_codes     text[] NOT NULL DEFAULT '{}',
    created_on     date NOT NULL DEFAULT current_date,
    retired_on     date,
    geom           geometry(LineString, 4326) NOT NULL
);
CREATE UNIQUE INDEX road_section_code_live_idx ON road_section (code) WHERE retired_on IS NULL;
CREATE INDEX road_section_road_idx ON road_section (road_id);
-- ON DELETE SET NULL of parent_id looks children up by it when a re-cut deletes their parent.
CREATE INDEX road_section_parent_idx ON road_section (parent_id);
CREATE INDEX road_section_geom_idx ON road_section USING gist (geom) WHERE retired_on IS NULL;
-- Metre distances (nearest section to a shop) go through geography: index the cast.
CREATE INDEX road_section_geog_idx ON road_section USING gist ((geom::geography)) WHERE retired_on IS NULL;
CREATE INDEX road_section_community_idx ON road_section (community_code);

-- The length of a section inside each grid (grid_code NULL: outside every grid), so coverage can be
-- summed per grid, community and street by length share rather than by a section's main grid.
CREATE TABLE road_section_share (
    section_id     bigint NOT NULL REFERENCES road_section (id) ON DELETE CASCADE,
    grid_code      text REFERENCES grid (code) ON UPDATE CASCADE ON DELETE CASCADE,
    community_code text REFERENCES community (code) ON UPDATE CASCADE ON DELETE CASCADE,
    street_name    text,
    length_m       double precision NOT NULL
);
CREATE INDEX road_section_share_section_idx ON road_section_share (section_id);

-- Responsible units (责任单位): a government office, a company, a school ...
CREATE TABLE responsible_unit (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref     text UNIQUE,
    name    text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    kind    text NOT NULL DEFAULT 'other'
            CHECK (kind IN ('government', 'institution', 'enterprise', 'school', 'community', 'shop', 'other')),
    contact text,
    phone   text CHECK (phone ~ '^[0-9+\- ]{5,20}$')
);

-- Who holds a section when. valid is a daterange [from, to+1) (to inclusive, NULL = open);
-- at any moment a section has at most one unit, enforced here so concurrent planners cannot both win.
CREATE TABLE road_section_assignment (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    section_id bigint NOT NULL REFERENCES road_section (id) ON DELETE CASCADE,
    unit_id    bigint NOT NULL REFERENCES responsible_unit (id) ON DELETE RESTRICT,
    valid      daterange NOT NULL CHECK (NOT isempty(valid) AND NOT lower_inf(valid)),
    duty_day   smallint NOT NULL DEFAULT 5 CHECK (duty_day BETWEEN 1 AND 7),  -- ISO weekday, 5 = 每周五
    note       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT road_section_one_unit_at_a_time EXCLUDE USING gist (section_id WITH =, valid WITH &&)
);
CREATE INDEX road_section_assignment_unit_idx ON road_section_assignment (unit_id);

-- How a section end is described (from/to): the name of the road crossing there, if any, and the
-- chainage along its own road (桩号, K1+250 = 1,250 m from the road's start, on the ellipsoid).
CREATE FUNCTION road_point_label(own_road bigint, own_geom geometry, pt geometry)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT o.name FROM road o
                     WHERE o.id <> $1 AND ST_DWithin(o.geom, $3, 1e-6)
                     ORDER BY o.geom <-> $3 LIMIT 1) || ' / ', '')
           || 'K' || floor(c.m / 1000)::int || '+' || lpad(mod(floor(c.m)::int, 1000)::text, 3, '0')
    FROM (SELECT ST_LineLocatePoint($2, $3) * ST_Length($2::geography) AS m) c
$$;

-- The media store (照片): photos kept once by their content's SHA-256 (the file under the data folder's
-- media/ab/cdef..., gis/media/store.py), with what their EXIF says about when and where they were
-- taken, kept as evidence; and the link from an inspection (检查记录) to its photos.
--
-- A photo is read only through the record it belongs to (GET /perimeter/inspections/{id}/photos/...),
-- under that record's access rules: the media table itself is never served by its hash alone.

CREATE TABLE media (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    mime       text NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'image/webp', 'image/heic')),
    bytes      bigint NOT NULL CHECK (bytes > 0),
    width      integer NOT NULL CHECK (width > 0),
    height     integer NOT NULL CHECK (height > 0),
    -- EXIF DateTimeOriginal as the camera's clock showed it (EXIF rarely says its time zone; when it
    -- does, taken_offset holds it, e.g. '+08:00')
    taken_at   timestamp,
    taken_offset text,
    position   geometry(Point, 4326),  -- EXIF GPS (WGS 84, as cameras write it)
    exif       jsonb NOT NULL DEFAULT '{}',  -- camera make and model, GPS altitude: more evidence
    stored_at  timestamptz NOT NULL DEFAULT now(),
    stored_by  text NOT NULL CHECK (btrim(stored_by) <> '')  -- the signed-in user who sent it first
);

CREATE TABLE inspection_photo (
    inspection_id bigint NOT NULL REFERENCES inspection (id) ON DELETE CASCADE,
    sha256        text NOT NULL REFERENCES media (sha256),
    file_name     text,  -- as the phone named it
    added_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (inspection_id, sha256)
);
CREATE INDEX inspection_photo_sha256_idx ON inspection_photo (sha256);

-- The service reads and adds as it does inspections (no row-level security there: the routes' roles
-- decide, api/policy.py); what it stored as evidence it can neither change nor remove. Inspections
-- are removed with their place (cascade), which takes their links along.
REVOKE ALL ON media, inspection_photo FROM gridmap_app;
GRANT SELECT, INSERT ON media, inspection_photo TO gridmap_app;

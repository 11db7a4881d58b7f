-- The record of moves (迁入, 迁出, 户间迁移) of the register's persons (issue 12).
--
-- The register counts current residents only: a person who moves out leaves the person table, and
-- their move-out row keeps what a grid worker needs to recognise them later (the name and the masked
-- ID number, 430503********1234) and nothing more; the full ID number is never kept in the history (a
-- hash of it would not protect it either: the space of valid ID numbers is small enough to search).
-- A move-in creates the person and its 'in' row; a transfer (from one household of the register to
-- another) keeps the person's row and id and writes its 'transfer' row in the same statement.
--
-- Who did it is stamped by the database from the request's token, as the audit log is (audit_actor()
-- of migration 012): the service cannot write another user's name into the history.

CREATE TABLE person_move (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('in', 'out', 'transfer')),
    moved_on          date NOT NULL DEFAULT current_date,
    -- no foreign key: a moved-out person's row is gone, the record stays
    person_id         bigint,
    name              text NOT NULL CHECK (btrim(name) <> ''),
    id_number_masked  text CHECK (id_number_masked ~ '^[0-9]{6}\*{8}[0-9]{3}[0-9X]$'),
    -- a deleted household leaves the record (seen then by admins of everything only)
    from_household_id bigint REFERENCES household (id) ON DELETE SET NULL,
    to_household_id   bigint REFERENCES household (id) ON DELETE SET NULL,
    note              text CHECK (char_length(note) <= 200),
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    actor_user_id     bigint,
    actor_username    text,
    CONSTRAINT person_move_households CHECK (
        CASE kind WHEN 'in' THEN from_household_id IS NULL
                  WHEN 'out' THEN to_household_id IS NULL
                  ELSE from_household_id IS DISTINCT FROM to_household_id END)
);
CREATE INDEX person_move_from_idx ON person_move (from_household_id);
CREATE INDEX person_move_to_idx ON person_move (to_household_id);

-- The actor and the time come from the database, whatever the statement said.
CREATE FUNCTION person_move_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    NEW.recorded_at := clock_timestamp();
    SELECT a.user_id, a.username INTO NEW.actor_user_id, NEW.actor_username FROM audit_actor() a;
    RETURN NEW;
END $$;
CREATE TRIGGER person_move_stamp BEFORE INSERT ON person_move FOR EACH ROW EXECUTE FUNCTION person_move_stamp();

-- A history: appended by the service, never changed or removed by it (a household's deletion clears
-- its id through the foreign key, which runs as the owner).
REVOKE UPDATE, DELETE, TRUNCATE ON person_move FROM gridmap_app;

-- Read by the register roles (admin, grid worker) when they may see either household, as person rows
-- are (migrations 005, 011); written only where the writer holds every household the move names.
ALTER TABLE person_move ENABLE ROW LEVEL SECURITY;
CREATE POLICY person_move_read ON person_move FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR from_household_id IN (SELECT access_households('{admin,grid_worker}'))
    OR to_household_id IN (SELECT access_households('{admin,grid_worker}')));
CREATE POLICY person_move_insert ON person_move FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_all('{admin,grid_worker}'))
    OR ((from_household_id IS NOT NULL OR to_household_id IS NOT NULL)
        AND (from_household_id IS NULL
             OR from_household_id IN (SELECT access_households('{admin,grid_worker}')))
        AND (to_household_id IS NULL
             OR to_household_id IN (SELECT access_households('{admin,grid_worker}')))));

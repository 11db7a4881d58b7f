-- household.grid_code is derived data: the grid that contains the household, written by the
-- set-based placement in the same statement that writes the household, from the grid table itself.
-- A foreign key re-checked that row by row (5 µs a household: a fifth of a million-household
-- import, tests/bench_import.py). Consistency is kept from the grid's side instead: when grids are
-- deleted or their code or boundary change, the households they held are placed again, in one
-- statement per change.
ALTER TABLE household DROP CONSTRAINT household_grid_code_fkey;

CREATE FUNCTION replace_households_of_grids() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    -- SECURITY DEFINER: row-level security must not hide from this re-placement the households of
    -- grids outside the acting user's scope.
    WITH moved AS (
        SELECT h.id, p.grid_code, p.placement
        FROM household h
        JOIN changed_grids o ON h.grid_code = o.code
        CROSS JOIN LATERAL grid_for_point(h.geom) p
        WHERE h.grid_code IS DISTINCT FROM p.grid_code OR h.placement IS DISTINCT FROM p.placement)
    UPDATE household h SET grid_code = m.grid_code, placement = m.placement
    FROM moved m WHERE h.id = m.id;
    RETURN NULL;
END $$;

CREATE TRIGGER grid_deleted_replace_households AFTER DELETE ON grid
    REFERENCING OLD TABLE AS changed_grids
    FOR EACH STATEMENT EXECUTE FUNCTION replace_households_of_grids();
CREATE TRIGGER grid_changed_replace_households AFTER UPDATE ON grid
    REFERENCING OLD TABLE AS changed_grids
    FOR EACH STATEMENT EXECUTE FUNCTION replace_households_of_grids();

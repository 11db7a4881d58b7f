-- Who may change the division (communities and grids): an admin whose scope covers the code, so a
-- street admin cannot create, move or delete another street's communities and grids, whatever the
-- route or import carries the code. Reading stays open to every role: the division is not personal
-- data, and placement (grid_for_point) must see every grid.
CREATE FUNCTION access_covers(code text, roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(access_scopes(roles)) s WHERE starts_with(code, s))
$$;

ALTER TABLE community ENABLE ROW LEVEL SECURITY;
ALTER TABLE grid ENABLE ROW LEVEL SECURITY;

CREATE POLICY community_read ON community FOR SELECT TO gridmap_app USING (true);
CREATE POLICY community_insert ON community FOR INSERT TO gridmap_app
    WITH CHECK (access_covers(code, '{admin}'));
CREATE POLICY community_update ON community FOR UPDATE TO gridmap_app
    USING (access_covers(code, '{admin}')) WITH CHECK (access_covers(code, '{admin}'));
CREATE POLICY community_delete ON community FOR DELETE TO gridmap_app
    USING (access_covers(code, '{admin}'));

CREATE POLICY grid_read ON grid FOR SELECT TO gridmap_app USING (true);
CREATE POLICY grid_insert ON grid FOR INSERT TO gridmap_app
    WITH CHECK (access_covers(code, '{admin}'));
CREATE POLICY grid_update ON grid FOR UPDATE TO gridmap_app
    USING (access_covers(code, '{admin}')) WITH CHECK (access_covers(code, '{admin}'));
CREATE POLICY grid_delete ON grid FOR DELETE TO gridmap_app
    USING (access_covers(code, '{admin}'));

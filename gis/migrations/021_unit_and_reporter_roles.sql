-- Two roles for field work (issue 14): a responsible unit (责任单位) whose accounts see and handle the
-- reports routed to their unit, and a reporter (志愿者, 文明劝导员) who files reports and follows their
-- own. And the link between a grid worker of the division and the account she signs in with.
--
-- A grant keeps its (role, scope) shape: a unit's or a reporter's scope is the region (code prefix) they
-- work in; which unit an account acts for is unit_account below, set by an admin.

INSERT INTO app_role VALUES
    ('unit', '责任单位', 'responsible unit: the reports routed to its unit'),
    ('reporter', '志愿者/劝导员', 'reporter (volunteer, 文明劝导员): files reports, follows their own');

-- Which unit an account acts for. One unit per account (a person acting for two units has two
-- accounts); a unit may have several accounts.
CREATE TABLE unit_account (
    user_id bigint PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
    unit_id bigint NOT NULL REFERENCES responsible_unit (id) ON DELETE CASCADE
);
CREATE INDEX unit_account_unit_idx ON unit_account (unit_id);
-- Accounts are the owner's: the service reads the link only through access_units().
REVOKE ALL ON unit_account FROM gridmap_app;

-- The units the acting user acts for: those of an active account holding the unit role.
CREATE FUNCTION access_units() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(ua.unit_id), '{}')
    FROM unit_account ua JOIN app_user u ON u.id = ua.user_id
    WHERE u.id = access_user_id() AND u.active
      AND EXISTS (SELECT 1 FROM user_grant g WHERE g.user_id = u.id AND g.role = 'unit')
$$;
REVOKE EXECUTE ON FUNCTION access_units() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_units() TO gridmap_app;

-- Every grid worker record (网格员) may be linked to the account she signs in with: at most one
-- worker per account. Writes are stamped with the signed-in user, never a typed name.
ALTER TABLE grid_worker ADD COLUMN user_id bigint UNIQUE REFERENCES app_user (id) ON DELETE SET NULL;

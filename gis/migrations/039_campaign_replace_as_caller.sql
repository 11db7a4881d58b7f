-- Re-placing the campaign records after a division edit runs with the editor's rights (migration 030
-- ran it as the owner). A trigger on community must never act with the owner's rights: an admin who
-- redraws her community over a neighbour's compounds would otherwise pull them into her area (the
-- takeover that migration 010 closed for households). As the caller, the re-placement updates only the
-- records her row-level security lets her write; a record that would leave her area is refused by the
-- policies' WITH CHECK, so the edit fails rather than hand it over. A city-wide admin re-places all.
ALTER FUNCTION campaign_division_changed() SECURITY INVOKER;
ALTER FUNCTION campaign_replace(boolean) SECURITY INVOKER;
GRANT EXECUTE ON FUNCTION campaign_replace(boolean) TO gridmap_app;

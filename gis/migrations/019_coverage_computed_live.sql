-- Road coverage (覆盖率) is computed from the geometries as they are on the day (gis/roads/coverage.sql):
-- every section once per level, a stretch on a border shared 1/k among the k polygons holding it.
-- road_section_share, the per-grid lengths written at cut time, gave a section lying on a grid or
-- community border its whole length in both polygons (ST_Intersects + ST_Intersection return the
-- border line to each), and went stale whenever a grid was redrawn; no figure reads it any more, so
-- it goes rather than being a second, wrong answer to the same question.
DROP TABLE IF EXISTS road_section_share;

"""The spatial domain of gridmap on PostGIS: settings, database, grids, register, import/export."""

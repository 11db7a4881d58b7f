"""OGC API - Features, CQL2 filters and vector tiles."""

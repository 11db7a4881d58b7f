"""Versioned SQL migrations, NNN_name.sql, applied once each in order by gis.migrate."""

"""HTTP API (FastAPI) and CLI (typer): compose gis/ and layers/, hold no SQL."""

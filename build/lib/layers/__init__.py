"""Map layers: each takes rows or a GeoDataFrame and returns a folium object; never touches the database."""

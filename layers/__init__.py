"""Map layers for the dashboard: folium elements built from GeoDataFrames and case tables."""

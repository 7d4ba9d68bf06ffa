"""Grid workers in the field: workers, GPS fixes and tracks, the latest fix."""

"""Property-based tests of the readers that take user files and fields (issue 12, point 8)."""

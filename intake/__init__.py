"""The one way into the store: record-by-record intake (normalise, join, route, dedupe, insert +
event + audit); file import and upload checks on top of it."""

"""devhost: a local Azure Functions host with the Durable extension, for Python apps (folder-per-function and v2)."""

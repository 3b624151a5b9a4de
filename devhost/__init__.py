"""devhost: a local Azure Functions host with the Durable extension, for folder-per-function Python apps."""

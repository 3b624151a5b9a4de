"""Where durable state lives: the Store contract every backend keeps (contract.py), where the backend is chosen
(backends.py), and the SQLite backend: its verbs and transactions (sqlite.py), its file (sqlite_file.py) and the
histories it keeps decoded in memory (history_cache.py); only the two sqlite modules speak SQL. May import what
devhost.runtime may."""

"""Where durable state lives: the Store contract every backend keeps (contract.py) and its SQLite backend, the only
module of devhost that speaks SQL. May import what devhost.runtime may."""

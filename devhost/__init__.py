"""devhost: a local Azure Functions host with the Durable extension, for Python apps (folder-per-function and v2).

Layers, lowest first (tests/devhost/test_layers.py holds the rules; each subpackage's docstring says what it may
import):
- foundation: errors, clock, model (shared types), jsontext, malloc, tracebacks
- protocol/: the pure Durable protocol (engine, shim, entity batch, history events, failures, payloads)
- app/: the user's app as read (config, keys, loader, indexing, bindings, route templates)
- workers/ and runtime/, side by side: worker processes; store, dispatcher, operations, timers
- web/: the HTTP server, guard, bodies, dashboard
- host.py wires them; __main__.py is the command line; testing.py is the harness and pytest plugin.
"""

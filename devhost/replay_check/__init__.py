"""The replay check (`python -m devhost replay`): the app's current orchestrator code replayed against recorded
histories, before a deploy. It sits above the layers, as host.py does: it may import devhost.protocol, devhost.app
and devhost.runtime (the store's read-only verbs), never devhost.web or devhost.workers."""

"""The Durable runtime: the store, the dispatcher that runs what it holds, client operations on instances and
entities, timer triggers, time travel and the built-in HTTP activity. It calls functions only through the
Invoker it is handed. May import: the foundation, devhost.protocol, devhost.app and itself."""

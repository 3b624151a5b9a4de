"""The Durable protocol, pure: the replay engine, the out-of-proc shim's replay of an OrchestratorState, the entity
batch, history events, failures as data and the management API's JSON payloads. No I/O, no clock, no database.
May import: the foundation (devhost.errors, clock, model, jsontext, malloc) and itself."""

"""Language workers: the worker process that imports the app and runs its functions, the host's pool that
spreads calls over them and replaces the ones that die, and the event-loop selector that waits for their answers.
May import: the foundation, devhost.app and itself."""

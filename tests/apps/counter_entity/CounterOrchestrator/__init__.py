"""Signals an entity (Counter by default), then calls it: the call sees every earlier signal; an operation's error
comes back to the orchestrator as an exception it can catch."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    spec = context.get_input() or {}
    counter = df.EntityId(spec.get("entity", "Counter"), spec.get("key", "default"))
    for amount in spec.get("signals", []):
        context.signal_entity(counter, "add", amount)
    after_signals = yield context.call_entity(counter, "get")
    after_add = yield context.call_entity(counter, "add", spec.get("add", 0))
    try:
        yield context.call_entity(counter, "fail", "divide by zero")
        error = None
    except Exception as exc:  # the entity's exception comes back to the caller
        error = str(exc)
    return {"afterSignals": after_signals, "afterAdd": after_add, "error": error}


main = df.Orchestrator.create(orchestrator_function)

"""Calls OnceHeld: it must complete even when OnceHeld's worker process is replaced under it."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("OnceHeld", context.get_input()))


main = df.Orchestrator.create(orchestrator_function)

"""Chains `steps` Sleep activities, each taking `seconds`; returns the step numbers in order."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    spec = context.get_input() or {}
    results = []
    for step in range(spec.get("steps", 5)):
        results.append((yield context.call_activity("Sleep", {"step": step, "seconds": spec.get("seconds", 0.1)})))
    return results


main = df.Orchestrator.create(orchestrator_function)

"""Runs one Child sub-orchestration per city, one after the other, each under an instance id of its choosing."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    results = []
    for city in context.get_input():
        child_id = f"{context.instance_id}-{city.lower()}"
        results.append((yield context.call_sub_orchestrator("Child", city, child_id)))
    return results


main = df.Orchestrator.create(orchestrator_function)

"""Race: asks every mirror at once (one Fetch activity each) and returns the first answer (task_any)."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    mirrors = context.get_input() or {}
    fetches = [context.call_activity("Fetch", {"mirror": name, "seconds": seconds})
               for name, seconds in mirrors.items()]
    first = yield context.task_any(fetches)
    return first.result


main = df.Orchestrator.create(orchestrator_function)

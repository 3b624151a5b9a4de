"""Eternal counter: adds one per execution and continues as new until it reaches `limit`, so history stays small."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    state = context.get_input()
    count = yield context.call_activity("Increment", state["count"])
    context.set_custom_status({"count": count})
    if count < state["limit"]:
        context.continue_as_new({"count": count, "limit": state["limit"]})
        return None
    return count


main = df.Orchestrator.create(orchestrator_function)

"""Greets one city and reports who it is: its own instance id and its parent's."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    greeting = yield context.call_activity("Greet", context.get_input())
    return {"greeting": greeting, "instanceId": context.instance_id, "parentInstanceId": context.parent_instance_id}


main = df.Orchestrator.create(orchestrator_function)

"""Starts one Child sub-orchestration per city, in parallel, with default instance ids; returns their results."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    cities = context.get_input()
    return (yield context.task_all([context.call_sub_orchestrator("Child", city) for city in cities]))


main = df.Orchestrator.create(orchestrator_function)

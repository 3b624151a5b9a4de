"""Orchestrator: call the Hello activity for Tokyo, Seattle and London in turn and return the greetings."""

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    result1 = yield context.call_activity("Hello", "Tokyo")
    result2 = yield context.call_activity("Hello", "Seattle")
    result3 = yield context.call_activity("Hello", "London")
    return [result1, result2, result3]


main = df.Orchestrator.create(orchestrator_function)

"""Calls Echo, then FailOnce: fails the first time it runs (until rewound), then completes."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("Echo", "before")
    second = yield context.call_activity("FailOnce", context.get_input()["marker"])
    return [first, second]


main = df.Orchestrator.create(orchestrator_function)

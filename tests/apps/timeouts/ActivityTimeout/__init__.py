"""Calls an activity that sleeps past functionTimeout and expects to catch its failure (input: the activity's
input; default 180 seconds, as in the extension's test)."""
import azure.durable_functions as df

from ..shared.expect import expect_failure


def orchestrator_function(context: df.DurableOrchestrationContext):
    return (yield from expect_failure(context.call_activity("SlowActivity", context.get_input() or 180)))


main = df.Orchestrator.create(orchestrator_function)

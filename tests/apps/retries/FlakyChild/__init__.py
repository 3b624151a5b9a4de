"""A sub-orchestration that fails whenever its one Flaky activity fails (it does not retry by itself)."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    result = yield context.call_activity("Flaky", context.get_input())
    return dict(result, child=context.instance_id)


main = df.Orchestrator.create(orchestrator_function)

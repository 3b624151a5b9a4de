"""A sub-orchestration with one activity: returns its input plus 100."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("Add", [context.get_input(), 100]))


main = df.Orchestrator.create(orchestrator_function)

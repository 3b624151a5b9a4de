"""Returns its input at once: an instance that completes in one episode."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    return context.get_input()
    yield  # a generator, as orchestrators are


main = df.Orchestrator.create(orchestrator_function)

"""Calls Raise and catches its failure: the orchestration completes."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("Raise", "caught")
    except Exception:
        return "caught"


main = df.Orchestrator.create(orchestrator_function)

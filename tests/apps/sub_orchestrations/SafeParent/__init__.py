"""Runs a Child sub-orchestration and turns its failure into a result instead of failing too."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    try:
        return (yield context.call_sub_orchestrator("Child", context.get_input()))
    except Exception as error:
        return {"failed": str(error)}


main = df.Orchestrator.create(orchestrator_function)

"""An orchestrator written as `async def`: orchestrators must be generators (`def` with `yield`)."""
import azure.durable_functions as df


async def orchestrator_function(context: df.DurableOrchestrationContext):
    return "never"


main = df.Orchestrator.create(orchestrator_function)

import azure.durable_functions as df


def main(context: df.DurableOrchestrationContext):  # not func.OrchestrationContext: the worker refuses it
    yield context.call_activity("Hello", "x")

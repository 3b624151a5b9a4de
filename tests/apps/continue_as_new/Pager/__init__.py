"""Walks a paged listing: each execution fetches one page's next cursor and continues as new with it (a string)."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    cursor = context.get_input()
    next_cursor = yield context.call_activity("NextPage", cursor)
    if next_cursor is None:
        return cursor
    context.continue_as_new(next_cursor)
    return None


main = df.Orchestrator.create(orchestrator_function)

"""Notes current_utc_datetime, new_uuid and is_replaying at each step in its custom status; a "Next" event moves on."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    journal = []
    for step in range(context.get_input()["steps"]):
        journal.append({"step": step, "time": context.current_utc_datetime.isoformat(),
                        "uuid": context.new_uuid(), "replaying": context.is_replaying})
        context.set_custom_status(journal)
        yield context.wait_for_external_event("Next")
    return {"journal": journal, "replayingAtTheEnd": context.is_replaying}


main = df.Orchestrator.create(orchestrator_function)

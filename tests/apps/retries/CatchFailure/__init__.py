"""Calls an activity (`activity`, Flaky by default) once, without retry, and returns the text of the exception the
SDK raises into the generator when it fails."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    job = context.get_input()
    work = {"counter": f"{job['dir']}/{context.instance_id}", "failures": job["failures"]}
    try:
        return {"result": (yield context.call_activity(job.get("activity", "Flaky"), work))}
    except Exception as exc:
        return {"caught": str(exc)}


main = df.Orchestrator.create(orchestrator_function)

"""Calls the Flaky activity with a retry policy: `attempts` tries, `interval_ms` apart."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    job = context.get_input()
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=job.get("interval_ms", 100),
                            max_number_of_attempts=job.get("attempts", 3))
    work = {"counter": f"{job['dir']}/{context.instance_id}", "failures": job["failures"]}
    return (yield context.call_activity_with_retry("Flaky", retry, work))


main = df.Orchestrator.create(orchestrator_function)

"""On the schedule the NightlySchedule app setting holds, and once at start-up (runOnStartup): start a Report."""
import azure.durable_functions as df
import azure.functions as func


async def main(timer: func.TimerRequest, starter: str) -> None:
    client = df.DurableOrchestrationClient(starter)
    await client.start_new("Report", None, {"source": "Nightly", "pastDue": timer.past_due, "last": None})

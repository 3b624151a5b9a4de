"""Every hour on the hour (NCRONTAB, seconds first): start a Report orchestration about this run."""
import azure.durable_functions as df
import azure.functions as func


async def main(timer: func.TimerRequest, starter: str) -> None:
    client = df.DurableOrchestrationClient(starter)
    await client.start_new("Report", None, {"source": "Hourly", "pastDue": timer.past_due,
                                            "last": timer.schedule_status.get("Last")})

"""The scheduled app in the v2 programming model: timers that start a Report orchestration, an activity with a
Twilio output devhost accepts and drops, and a queue trigger devhost cannot fire."""
import json

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.function_name("Hourly")
@app.timer_trigger(schedule="0 0 * * * *", arg_name="timer")
@app.durable_client_input(client_name="client")
async def hourly(timer: func.TimerRequest, client) -> None:
    await client.start_new("Report", None, {"source": "Hourly", "pastDue": timer.past_due,
                                            "last": timer.schedule_status.get("Last")})


@app.function_name("Nightly")
@app.timer_trigger(schedule="%NightlySchedule%", arg_name="timer", run_on_startup=True)
@app.durable_client_input(client_name="client")
async def nightly(timer: func.TimerRequest, client) -> None:
    await client.start_new("Report", None, {"source": "Nightly", "pastDue": timer.past_due, "last": None})


@app.function_name("Report")
@app.orchestration_trigger(context_name="context")
def report(context: df.DurableOrchestrationContext):
    run = context.get_input()
    sent = yield context.call_activity("Notify", run)
    return {**run, "sent": sent}


@app.function_name("Notify")
@app.activity_trigger(input_name="run")
@app.generic_output_binding(arg_name="message", type="twilioSms", accountSidSetting="TwilioAccountSid",
                            authTokenSetting="TwilioAuthToken", **{"from": "+15550000000"})
def notify(run: dict, message: func.Out[str]) -> str:
    text = f"{run['source']} ran" + (" late" if run["pastDue"] else "")
    message.set(json.dumps({"body": text, "to": "+15551234567"}))
    return text


@app.function_name("QueueWorker")
@app.queue_trigger(arg_name="msg", queue_name="reports", connection="AzureWebJobsStorage")
def queue_worker(msg: func.QueueMessage) -> None:
    pass

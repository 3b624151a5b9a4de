"""Human interaction: sends an approval request, then waits for the "Approval" event or a deadline, whichever comes
first. The Blueprint's activity lives in approval_activities.py."""
from datetime import timedelta

import azure.durable_functions as df

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration="ApprovalWorkflow")
def approval_workflow(context: df.DurableOrchestrationContext):
    request = context.get_input()
    ticket = yield context.call_activity("SendApprovalRequest", request)
    deadline = context.current_utc_datetime + timedelta(seconds=request.get("timeoutSeconds", 86400))
    timeout = context.create_timer(deadline)
    approval = context.wait_for_external_event("Approval")
    winner = yield context.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()
        return {"ticket": ticket, "decision": approval.result}
    return {"ticket": ticket, "decision": "timed out"}

"""Human interaction: sends an approval request, then waits for the "Approval" event and returns the decision."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    request = context.get_input()
    ticket = yield context.call_activity("SendApprovalRequest", request)
    decision = yield context.wait_for_external_event("Approval")
    return {"ticket": ticket, "decision": decision}


main = df.Orchestrator.create(orchestrator_function)

"""Makes one durable HTTP call (context.call_http) described by its input and returns the response the host gives
back ({"statusCode", "headers", "content"}), or the error text when the call could not be made."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    request = context.get_input()
    try:
        response = yield context.call_http(request.get("method", "GET"), request["uri"],
                                           content=request.get("content"), headers=request.get("headers"))
    except Exception as exc:  # the host could not reach the server
        return {"error": str(exc)}
    return response


main = df.Orchestrator.create(orchestrator_function)

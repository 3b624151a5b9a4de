"""A plain (def) HTTP function: it needs a thread of the worker's pool."""
import azure.functions as func


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong")

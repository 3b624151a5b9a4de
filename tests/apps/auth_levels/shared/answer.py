"""The one body of this app's HTTP functions (their function.json files differ only in authLevel): answers "served"."""
import azure.functions as func


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("served")

"""An HTTP function that raises."""
import azure.functions as func


def main(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom")

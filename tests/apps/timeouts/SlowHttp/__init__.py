"""An HTTP function that sleeps for ?seconds= (blocking its thread)."""
import time

import azure.functions as func


def main(req: func.HttpRequest) -> func.HttpResponse:
    time.sleep(float(req.params.get("seconds", "0")))
    return func.HttpResponse("done")

import azure.functions as func


def main(req: func.HttpRequest) -> func.HttpResponse:
    if req.params.get("fail"):
        raise LookupError("asked to fail")
    return func.HttpResponse(f"{req.method} {req.params.get('name')}", status_code=202, headers={"x-v1": "1"})

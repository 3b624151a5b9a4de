"""An entity written against the raw batch protocol (no df.Entity): it keeps every batch it is given in its state,
answers each operation with its position in the batch, and fails the operation named "fail"."""
import json

import azure.functions as func


def main(context: func.EntityContext) -> str:
    request = json.loads(context.body)
    state = json.loads(request["state"]) if request["state"] is not None else {"batches": []}
    state["batches"].append({key: request[key] for key in ("self", "exists", "batch")})
    results = [{"isError": op["name"] == "fail", "duration": 0, "startTime": 0,
                "result": json.dumps(f"Recorder cannot {op['name']}" if op["name"] == "fail" else position)}
               for position, op in enumerate(request["batch"])]
    return json.dumps({"entityExists": True, "entityState": json.dumps(state), "results": results, "signals": []})

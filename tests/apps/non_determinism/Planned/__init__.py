"""A deliberately non-deterministic orchestrator: it reads its plan (activity names) from a file on every replay,
so editing the file while an instance runs changes its actions; the host must fail it, not run on wrongly."""
import json
from pathlib import Path

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    plan = json.loads(Path(context.get_input()["plan"]).read_text())  # the bug: I/O in orchestrator code
    results = []
    for activity in plan:
        results.append((yield context.call_activity(activity, len(results))))
    yield context.wait_for_external_event("Finish")
    return results


main = df.Orchestrator.create(orchestrator_function)

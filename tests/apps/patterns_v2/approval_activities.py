"""The approval Blueprint's activity, declared in a file of its own on the Blueprint approval.py made."""
from approval import bp


@bp.activity_trigger(input_name="request", activity="SendApprovalRequest")
def send_approval_request(request: dict) -> str:
    return f"Please approve: {request['item']}"

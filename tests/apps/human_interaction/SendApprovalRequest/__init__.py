"""Pretends to e-mail an approver about the request; returns the ticket text it sent."""


def main(request: dict) -> str:
    return f"Please approve: {request['item']}"

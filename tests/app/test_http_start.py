"""Unit tests for DurableFunctionsHttpStart: a real SDK client whose start_new is mocked."""

import asyncio
import importlib
import json
import logging
from unittest.mock import AsyncMock, patch

import azure.durable_functions as df
import azure.functions as func

starter_module = importlib.import_module("DurableFunctionsHttpStart")

INSTANCE_ID = "3f0c6a3f5d7e4b0f9b1a2c3d4e5f6a7b"
BASE = "http://localhost:7071/runtime/webhooks/durabletask"
QUERY = "taskHub=TestHubName&connection=Storage&code=KEY"

# What the management URLs of the durableClient binding look like (docs/protocol.md §1).
MANAGEMENT_URLS = {
    "id": "INSTANCEID",
    "statusQueryGetUri": f"{BASE}/instances/INSTANCEID?{QUERY}",
    "sendEventPostUri": f"{BASE}/instances/INSTANCEID/raiseEvent/{{eventName}}?{QUERY}",
    "terminatePostUri": f"{BASE}/instances/INSTANCEID/terminate?reason={{text}}&{QUERY}",
    "rewindPostUri": f"{BASE}/instances/INSTANCEID/rewind?reason={{text}}&{QUERY}",
    "purgeHistoryDeleteUri": f"{BASE}/instances/INSTANCEID?{QUERY}",
    "restartPostUri": f"{BASE}/instances/INSTANCEID/restart?{QUERY}",
    "suspendPostUri": f"{BASE}/instances/INSTANCEID/suspend?reason={{text}}&{QUERY}",
    "resumePostUri": f"{BASE}/instances/INSTANCEID/resume?reason={{text}}&{QUERY}",
}

STARTER = json.dumps({
    "taskHubName": "TestHubName",
    "connectionName": None,
    "creationUrls": {
        "createNewInstancePostUri":
            f"{BASE}/orchestrators/{{functionName}}[/{{instanceId}}]?code=KEY",
        "createAndWaitOnNewInstancePostUri":
            f"{BASE}/orchestrators/{{functionName}}[/{{instanceId}}]"
            "?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=KEY",
    },
    "managementUrls": MANAGEMENT_URLS,
    "baseUrl": BASE,
    "requiredQueryStringParameters": "code=KEY",
    "rpcBaseUrl": "http://127.0.0.1:17071/durabletask/",
    "httpBaseUrl": None,
    "maxGrpcMessageSizeInBytes": None,
}, separators=(",", ":"))


def call_starter(origin="http://localhost:7071", function_name="HelloOrchestrator"):
    """Run the starter on a POST to its route; return (response, the client's start_new mock)."""
    client = df.DurableOrchestrationClient(STARTER)
    client.start_new = AsyncMock(return_value=INSTANCE_ID)
    request = func.HttpRequest(
        method="POST",
        url=f"{origin}/api/orchestrators/{function_name}",
        body=b"",
        route_params={"functionName": function_name},
    )
    with patch.object(starter_module.df, "DurableOrchestrationClient",
                      return_value=client) as constructor:
        response = asyncio.run(starter_module.main(request, STARTER))
    constructor.assert_called_once_with(STARTER)
    return response, client.start_new


def expected_payload(origin):
    return {key: url.replace(BASE, f"{origin}/runtime/webhooks/durabletask")
            .replace("INSTANCEID", INSTANCE_ID) for key, url in MANAGEMENT_URLS.items()}


def test_starts_the_orchestrator_named_in_the_route_without_input():
    _, start_new = call_starter(function_name="HelloOrchestrator")

    start_new.assert_awaited_once_with("HelloOrchestrator", None, None)


def test_answers_202_with_location_and_every_management_url():
    response, _ = call_starter()

    assert response.status_code == 202
    body = json.loads(response.get_body())
    assert body == expected_payload("http://localhost:7071")
    assert set(body) == set(MANAGEMENT_URLS)
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"
    assert response.headers["Content-Type"] == "application/json"


def test_management_urls_follow_the_origin_the_request_came_to():
    response, _ = call_starter(origin="http://127.0.0.1:8080")

    assert json.loads(response.get_body()) == expected_payload("http://127.0.0.1:8080")


def test_logs_the_instance_id(caplog):
    with caplog.at_level(logging.INFO):
        call_starter()

    assert f"Started orchestration with ID = '{INSTANCE_ID}'." in caplog.messages

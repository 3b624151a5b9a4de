"""Fixtures of devhost's web tests: the API over a real store (api_server.ApiServer), on each base path."""
from __future__ import annotations

import pytest
from api_server import BASES, ApiServer


@pytest.fixture
def api(tmp_path):
    server = ApiServer(tmp_path / "store.sqlite")
    yield server
    server.close()


@pytest.fixture(params=BASES, ids=["webhook", "rpc"])
def base(request) -> str:
    return request.param

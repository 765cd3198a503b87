"""Shared by the playground's server tests: a small run and one ASGI client per module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def client():
    """The app (at most two sessions) behind Starlette's test client."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from sinapsi.playground.app import create_app

    with TestClient(create_app(max_sessions=2)) as c:
        yield c

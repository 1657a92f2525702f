"""
Fixtures: real Baton servers on PGlite and on PostgreSQL. PostgreSQL databases come from
BATON_TEST_PG_DATABASES (comma-separated URLs of empty databases), which scripts/test-python-client.ts
creates; without it the PostgreSQL tests fail and say how to run them.
"""

from __future__ import annotations

import os
import uuid
from typing import Iterator, List

import pytest

from baton_client import Baton
from servers import RATE_WINDOW_S, TOKENS, BatonServer

_pg_databases: List[str] = [u for u in os.environ.get("BATON_TEST_PG_DATABASES", "").split(",") if u]


def _pg_database() -> str:
    if not _pg_databases:
        pytest.fail(
            "no PostgreSQL database for the Python client tests: run them with `npx tsx scripts/test-python-client.ts` "
            "(npm test does), which starts PostgreSQL and sets BATON_TEST_PG_DATABASES"
        )
    return _pg_databases.pop(0)


@pytest.fixture(scope="session", params=["pglite", "postgres"])
def server(request: pytest.FixtureRequest) -> Iterator[BatonServer]:
    """The main server, with admin, publisher and reader tokens and no rate limit, on each backend."""
    backend = request.param
    srv = BatonServer(backend, database_url=_pg_database() if backend == "postgres" else None)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def rate_limited_server() -> Iterator[BatonServer]:
    """PGlite, 3 publish requests per token and RATE_WINDOW_S seconds (the limit lives in the server process)."""
    srv = BatonServer("pglite", env={"BATON_PUBLISH_RATE_LIMIT": "3", "BATON_PUBLISH_RATE_WINDOW": str(RATE_WINDOW_S)})
    yield srv
    srv.stop()


@pytest.fixture()
def baton(server: BatonServer) -> Iterator[Baton]:
    with Baton(server.url, token=TOKENS["admin"], deadline=30) as client:
        yield client


@pytest.fixture()
def unique() -> str:
    """A suffix that keeps names of one test apart from every other test's on a shared server."""
    return uuid.uuid4().hex[:12]

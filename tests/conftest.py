"""Shared test switches and fixtures.

Slow suites are opt-in: `--e2e` runs tests that need a real Docker engine,
`--bench` runs benchmarks. Without the switch those tests are skipped with
that reason, never reported as passed.
"""

import shutil

import pytest

from tests.utils.live_stack import fresh_stack, stack_config  # noqa: F401 - shared fixtures
from tests.utils.mongo_standin import MongoStandIn
from tests.utils.redis_server import RedisServer

SLOW_SUITES = {"e2e": "--e2e", "bench": "--bench"}


def pytest_addoption(parser: pytest.Parser) -> None:
    for marker, flag in SLOW_SUITES.items():
        parser.addoption(flag, action="store_true", default=False, help=f"run tests marked {marker}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker, flag in SLOW_SUITES.items():
            if marker in item.keywords and not config.getoption(flag):
                item.add_marker(pytest.mark.skip(reason=f"not run: {marker} test (enable with {flag})"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    """A real redis-server on a free loopback port, for the whole session."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run scripts/ci/provision.sh (or apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A fresh, empty Redis database for one test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture(scope="session")
def mongo_standin(tmp_path_factory: pytest.TempPathFactory):
    """The nx-27017 MongoDB wire-protocol stand-in on a free port (not a MongoDB)."""
    server = MongoStandIn(tmp_path_factory.mktemp("mongo"))
    server.start()
    yield server
    server.stop()

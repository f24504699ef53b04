"""The backend and the worker ship as separate images, each with its own copy
of the Redis contract in DESIGN.md; these tests keep the copies identical,
and equal to the stack's real service names."""

from pathlib import Path

import yaml

from nasiko_backend import commands as backend_commands
from nasiko_backend import names as backend_names
from orchestrator import consumer, status, validate

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[1] / "docker-compose.nasiko.yml").read_text())


def test_backend_and_worker_use_the_same_command_stream():
    assert backend_commands.COMMANDS_STREAM == consumer.STREAM == "orchestration:commands"


def test_backend_and_worker_write_the_same_status_fields_in_the_design():
    assert backend_commands.STATUS_FIELDS == status.STATUS_FIELDS
    assert set(status.STATUS_FIELDS) >= {"agent_name", "status", "stage", "message", "url", "container_id",
                                         "image", "last_updated"}
    assert backend_commands.EVENTS_MAXLEN == status.EVENTS_MAXLEN


def test_backend_and_worker_accept_the_same_agent_names():
    assert backend_names._DNS_LABEL.pattern == validate.DNS_LABEL.pattern
    assert backend_names.RESERVED_NAMES == validate.RESERVED_NAMES


def test_reserved_agent_names_are_exactly_the_stack_services():
    """An agent container named like a service would shadow its DNS name on nasiko-network."""
    assert set(COMPOSE["services"]) == validate.RESERVED_NAMES


def test_agent_names_may_not_shadow_the_gateways_platform_routes():
    from nasiko_registry.render import PLATFORM_ROUTES

    routes = {route.prefix.strip("/") for route in PLATFORM_ROUTES}
    assert validate.GATEWAY_PATHS == backend_names.GATEWAY_PATHS == routes


def test_an_agent_named_like_a_platform_route_is_refused_by_backend_and_worker():
    import pytest

    with pytest.raises(validate.InvalidAgent, match="platform route of the gateway"):
        validate.check_agent_name("status")
    with pytest.raises(backend_names.InvalidAgentName, match="platform route of the gateway"):
        backend_names.check_agent_name("api")


def test_the_host_tasks_and_the_worker_read_the_same_container_labels():
    from nasiko_local import containers
    from orchestrator import companions

    assert containers.COMPANION_LABEL == companions.COMPANION_LABEL
    assert containers.AGENT_NETWORK_LABEL == companions.AGENT_NETWORK_LABEL

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

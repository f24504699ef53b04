"""`invoke status --json` follows its documented, versioned schema."""

import json
from pathlib import Path

import jsonschema

from nasiko_local.status import SCHEMA, Row, StackStatus

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "nasiko_local/schemas/status-v1.json"


def _status(**overrides) -> StackStatus:
    service = Row("redis", "service", "running", "healthy", 6379, "redis://localhost:6379",
                  "redis:7-alpine", 12.5, "nasiko-redis-1")
    agent = Row("crewai", "agent", "running", None, None, "http://localhost:9100/crewai/", "nasiko-agent/crewai:ab",
                3.0, "crewai")
    values = {"project": "nasiko", "env_file": None, "generated_at": "2026-12-03T10:00:00+00:00",
              "services": [service], "agents": [agent]} | overrides
    return StackStatus(**values)


def test_status_json_validates_against_the_v1_schema():
    document = json.loads(json.dumps(_status().to_json()))
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))
    assert document["schema"] == SCHEMA == "nasiko.status/v1"


def test_all_ready_ignores_disabled_parts_but_not_unhealthy_services():
    disabled = Row("kong", "service", "disabled", None, 9100, None, "kong:3.9", None, None)
    unhealthy = Row("nasiko-web", "service", "running", "unhealthy", 4000, None, "x", 1.0, "w")
    assert _status(services=[disabled]).all_ready
    assert not _status(services=[disabled, unhealthy]).all_ready


def test_schema_rejects_a_row_missing_a_documented_field():
    document = _status().to_json()
    del document["services"][0]["health"]
    try:
        jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))
    except jsonschema.ValidationError as error:
        assert "'health' is a required property" in error.message
    else:
        raise AssertionError("a row without health must not validate")

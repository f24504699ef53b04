import json

import pytest

from orchestrator.validate import (
    InvalidAgent,
    agent_name_for_folder,
    check_agent_name,
    name_collisions,
    validate_agent_folder,
)

CARD = {
    "name": "echo",
    "description": "d",
    "url": "http://echo:5000/",
    "version": "1",
    "capabilities": {},
    "skills": [],
}


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("WeatherAgent", "weatheragent"),
        ("weather.agent", "weather-agent"),
        ("_private", "private"),
        ("my agent", "my-agent"),
        ("agent-", "agent"),
        ("agent___x", "agent-x"),
        ("crewai", "crewai"),
    ],
)
def test_folder_names_map_to_one_valid_dns_label(folder, expected):
    assert agent_name_for_folder(folder) == expected
    assert check_agent_name(expected) == expected


@pytest.mark.parametrize(
    ("folder", "complaint"),
    [
        ("___", "no letters or digits"),
        ("a", "needs at least 2"),
        ("_a_", "needs at least 2"),
        ("x" * 64, "at most 63"),
        ("café", "not a valid DNS label"),
        ("redis", "name of a stack service"),
        ("Nasiko_Backend", "name of a stack service"),
    ],
)
def test_folder_names_that_cannot_be_mapped_are_rejected_with_the_reason(folder, complaint):
    with pytest.raises(InvalidAgent, match=complaint):
        agent_name_for_folder(folder)


@pytest.mark.parametrize("name", ["WeatherAgent", "weather.agent", "_private", "agent-", "my agent", "agent___x"])
def test_worker_accepts_only_names_that_are_already_valid_and_suggests_one(name):
    with pytest.raises(InvalidAgent, match="e.g."):
        check_agent_name(name)


def test_two_folders_mapping_to_the_same_name_are_reported():
    collisions = name_collisions(["weather.agent", "Weather_Agent", "crewai", "___"])
    assert collisions == {"weather-agent": ["Weather_Agent", "weather.agent"]}


def make_folder(tmp_path, *, dockerfile=True, card=CARD, compose=None):
    folder = tmp_path / "echo"
    folder.mkdir()
    if dockerfile:
        (folder / "Dockerfile").write_text("FROM python:3.12-slim\n")
    if card is not None:
        (folder / "AgentCard.json").write_text(card if isinstance(card, str) else json.dumps(card))
    if compose is not None:
        (folder / "docker-compose.yml").write_text(compose)
    return folder


def test_valid_folder_returns_its_compose_file(tmp_path):
    folder = make_folder(tmp_path, compose="services:\n  echo:\n    environment: {A: '1'}\n")
    assert validate_agent_folder(folder, "echo")["services"]["echo"]["environment"] == {"A": "1"}


def test_folder_without_compose_file_is_valid(tmp_path):
    assert validate_agent_folder(make_folder(tmp_path), "echo") == {}


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"dockerfile": False}, "no Dockerfile"),
        ({"card": None}, "no AgentCard.json"),
        ({"card": "{not json"}, "not valid JSON"),
        (
            {"card": {"name": "echo"}},
            "lacks required AgentCard fields: description, url, version, capabilities, skills",
        ),
        ({"card": {**CARD, "skills": "echo"}}, "'skills' must be a list"),
        ({"card": "[" * 100_000}, "nested too deeply"),
        ({"compose": "services: [\n"}, "not valid YAML"),
        ({"compose": "version: '3'\n"}, "no 'services' mapping"),
        ({"compose": "services:\n  other: {}\n"}, "no service 'echo' \\(found: other\\)"),
        ({"compose": "services:\n  echo:\n    container_name: echo-1\n"}, "container_name is 'echo-1'"),
    ],
)
def test_invalid_folder_is_rejected_with_what_to_fix(tmp_path, kwargs, complaint):
    with pytest.raises(InvalidAgent, match=complaint):
        validate_agent_folder(make_folder(tmp_path, **kwargs), "echo")


def test_a_compose_file_with_a_yaml_alias_bomb_is_refused_quickly(tmp_path):
    import time

    from orchestrator.validate import validate_agent_folder

    folder = tmp_path / "bomb"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (folder / "AgentCard.json").write_text(
        '{"name": "bomb", "description": "d", "url": "http://x/", "version": "1", "capabilities": {}, "skills": []}')
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    (folder / "docker-compose.yml").write_text(
        "x-bomb:\n" + "\n".join("  " + line for line in levels)
        + "\nservices:\n  bomb:\n    environment:\n      BOMB: *i\n")
    started = time.monotonic()
    with pytest.raises(InvalidAgent, match="expands to more than"):
        validate_agent_folder(folder, "bomb")
    assert time.monotonic() - started < 2

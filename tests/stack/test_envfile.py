"""Which env file is used, and why Compose alone interprets it."""

import json
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values

from nasiko_local.compose import Compose
from nasiko_local.envfile import CANDIDATES, choose_env_file
from nasiko_local.errors import NasikoError

from .conftest import requires_compose


def test_explicit_config_wins_over_every_candidate(tmp_path: Path):
    for name in CANDIDATES:
        (tmp_path / name).write_text("A=1\n")
    explicit = tmp_path / "mine.env"
    explicit.write_text("A=2\n")
    choice = choose_env_file(tmp_path, explicit)
    assert choice.path == explicit.resolve()
    assert choice.reason == "--config"


@pytest.mark.parametrize("present, expected", [
    ((".nasiko.env", ".nasiko-local.env", ".env"), ".nasiko.env"),
    ((".nasiko-local.env", ".env"), ".nasiko-local.env"),
    ((".env",), ".env"),
])
def test_first_candidate_in_documented_order_is_chosen(tmp_path: Path, present, expected):
    for name in present:
        (tmp_path / name).write_text("")
    assert choose_env_file(tmp_path).path == tmp_path / expected


def test_no_env_file_hands_compose_dev_null_so_it_reads_no_dot_env(tmp_path: Path):
    choice = choose_env_file(tmp_path)
    assert choice.path is None
    assert choice.compose_arg == "/dev/null"


def test_missing_explicit_config_is_an_error_naming_the_file(tmp_path: Path):
    with pytest.raises(NasikoError, match="nope.env does not exist") as error:
        choose_env_file(tmp_path, tmp_path / "nope.env")
    assert ".env.local.example" in error.value.hint


def _compose_values(tmp_path: Path, env_text: str, keys: list[str]) -> dict:
    """Resolve ${KEY} for each key exactly as Compose does, via `docker compose config`."""
    (tmp_path / "values.env").write_text(env_text)
    body = "\n".join(f"  {k.lower()}: ${{{k}}}" for k in keys)
    (tmp_path / "docker-compose.nasiko.yml").write_text(
        f"x-nasiko:\n{body}\nservices:\n  s:\n    image: scratch\n")
    compose = Compose(tmp_path, choose_env_file(tmp_path, tmp_path / "values.env"))
    return {k: compose.config.setting(k.lower()) for k in keys}


@requires_compose
def test_empty_value_falls_back_for_compose_but_not_for_dotenv(tmp_path: Path):
    env = "EMPTY=\nFALLBACK=${EMPTY:-fb}\n"
    assert _compose_values(tmp_path, env, ["FALLBACK"]) == {"FALLBACK": "fb"}
    (tmp_path / "d.env").write_text(env)
    assert dotenv_values(tmp_path / "d.env")["FALLBACK"] == ""


@requires_compose
def test_bare_dollar_reference_expands_for_compose_but_not_for_dotenv(tmp_path: Path):
    env = "A=x\nB=$A\n"
    assert _compose_values(tmp_path, env, ["B"]) == {"B": "x"}
    (tmp_path / "d.env").write_text(env)
    assert dotenv_values(tmp_path / "d.env")["B"] == "$A"


@requires_compose
def test_single_quotes_are_literal_for_compose_but_expanded_by_dotenv(tmp_path: Path):
    env = "A=x\nB='${A}'\n"
    assert _compose_values(tmp_path, env, ["B"]) == {"B": "${A}"}
    (tmp_path / "d.env").write_text(env)
    assert dotenv_values(tmp_path / "d.env")["B"] == "x"


@requires_compose
def test_malformed_env_file_error_names_file_and_line(tmp_path: Path):
    (tmp_path / "broken.env").write_text("GOOD=1\nthis line is wrong\n")
    (tmp_path / "docker-compose.nasiko.yml").write_text("services:\n  s:\n    image: scratch\n")
    compose = Compose(tmp_path, choose_env_file(tmp_path, tmp_path / "broken.env"))
    with pytest.raises(NasikoError) as error:
        compose.config  # noqa: B018 - reading it runs Compose
    assert "broken.env" in error.value.message
    assert "line 2" in error.value.message
    assert "fix the line" in error.value.hint


@requires_compose
def test_config_read_back_comes_from_compose_json(tmp_path: Path):
    """Sanity of the read-back path itself: Compose's JSON, not our parsing."""
    (tmp_path / "docker-compose.nasiko.yml").write_text("services:\n  s:\n    image: ${IMG:-scratch}\n")
    (tmp_path / "v.env").write_text("IMG=busybox:1\n")
    raw = subprocess.run(["docker", "compose", "-f", str(tmp_path / "docker-compose.nasiko.yml"), "--env-file",
                          str(tmp_path / "v.env"), "config", "--format", "json"], capture_output=True, text=True)
    compose = Compose(tmp_path, choose_env_file(tmp_path, tmp_path / "v.env"))
    assert compose.config.image("s") == json.loads(raw.stdout)["services"]["s"]["image"] == "busybox:1"


@pytest.mark.parametrize("content, complaint", [
    (b"A=1\n=orphan\n", "line 2: a value with no name"),
    (b"A=1\nB=\xff\xfe\x00\n", "is not text: line 2"),
    (b"\xef\xbb\xbfA=1\nB=\xff\n", "is not text: line 2"),  # after a byte-order mark too
])
def test_env_file_compose_would_reject_without_a_line_is_refused_naming_the_line(tmp_path: Path, content, complaint):
    env = tmp_path / "broken.env"
    env.write_bytes(content)
    with pytest.raises(NasikoError, match=complaint):
        choose_env_file(tmp_path, env)
    (tmp_path / ".nasiko.env").write_bytes(content)
    with pytest.raises(NasikoError, match=complaint):
        choose_env_file(tmp_path)


def test_a_line_starting_with_equals_inside_a_quoted_multiline_value_is_fine(tmp_path: Path):
    env = tmp_path / "multi.env"
    env.write_text('KEY="first line\n=second line"\nB=2\n')
    assert choose_env_file(tmp_path, env).path == env.resolve()

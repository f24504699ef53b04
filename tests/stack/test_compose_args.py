"""How tasks call Compose: one project, one file, the chosen env file, the right profiles."""

from pathlib import Path

import pytest

from nasiko_local.compose import Compose, ComposeConfig
from nasiko_local.envfile import EnvChoice
from nasiko_local.errors import NasikoError

from .conftest import requires_compose

ROOT = Path(__file__).resolve().parents[2]


def _compose(env: Path | None = None) -> Compose:
    return Compose(ROOT, EnvChoice(env, "test"))


def test_args_name_project_file_env_file_and_profiles_in_order():
    args = _compose(Path("/tmp/x.env")).args("up", "-d", profiles=["gateway"])
    assert args[:8] == ["docker", "compose", "-p", "nasiko", "-f", str(ROOT / "docker-compose.nasiko.yml"),
                        "--env-file", "/tmp/x.env"]
    assert args[-4:] == ["--profile", "gateway", "up", "-d"]


def test_without_env_file_compose_gets_dev_null():
    assert _compose().args("ps")[7] == "/dev/null"


@pytest.mark.parametrize("value, enabled", [("on", True), ("true", True), ("1", True), ("off", False),
                                            ("false", False), ("", False)])
def test_optional_part_switches_accept_on_and_off_spellings(value, enabled):
    assert ComposeConfig({"x-nasiko": {"gateway": value}}).part_enabled("gateway") is enabled


def test_an_unknown_switch_value_names_the_setting():
    with pytest.raises(NasikoError, match="NASIKO_GATEWAY='maybe'"):
        ComposeConfig({"x-nasiko": {"gateway": "maybe"}}).part_enabled("gateway")


@requires_compose
def test_dev_leaves_out_observability_but_keeps_the_gateway():
    compose = _compose()
    assert compose.active_profiles() == ["gateway", "observability"]
    assert compose.active_profiles(dev=True) == ["gateway"]
    assert "langtrace" in compose.left_out(["gateway"])
    assert "kong" in compose.services(["gateway"])


@requires_compose
def test_offline_settings_switch_off_gateway_and_observability():
    compose = _compose(ROOT / "scripts/ci/offline.env")
    assert compose.active_profiles() == []
    assert "kong" in compose.left_out([]) and "langtrace" in compose.left_out([])
    assert compose.config.image("redis") == "nasiko-offline/redis:7"


@requires_compose
def test_port_and_bind_address_settings_are_read_back_from_compose(tmp_path: Path):
    env = tmp_path / "ports.env"
    env.write_text("NASIKO_PORT_BACKEND=18000\nNASIKO_BIND_ADDRESS=0.0.0.0\n")
    ports = {p.service: p for p in _compose(env).config.published_ports(["nasiko-backend", "redis"])}
    assert (ports["nasiko-backend"].host_ip, ports["nasiko-backend"].port) == ("0.0.0.0", 18000)
    assert ports["redis"].port == 6379

"""Contract of docker-compose.nasiko.yml, read through Compose itself."""

import re
from pathlib import Path

import pytest
import yaml

from nasiko_local.compose import Compose
from nasiko_local.envfile import EnvChoice

from .conftest import requires_compose

ROOT = Path(__file__).resolve().parents[2]
RAW = yaml.safe_load((ROOT / "docker-compose.nasiko.yml").read_text())
OWN = ["nasiko-backend", "nasiko-web", "kong-service-registry", "nasiko-router", "nasiko-auth",
       "chat-history", "nasiko-worker"]
HOST_PORTS = {"kong": {9100, 9101}, "nasiko-backend": {8000}, "nasiko-web": {4000},
              "kong-service-registry": {8080}, "nasiko-router": {8081}, "nasiko-auth": {8082},
              "chat-history": {8083}, "langtrace": {3000}, "mongodb": {27017}, "redis": {6379}}


@pytest.fixture(scope="module")
def config():
    return Compose(ROOT, EnvChoice(None, "defaults")).config


def test_project_is_nasiko_on_one_network_named_exactly_nasiko_network():
    assert RAW["name"] == "nasiko"
    assert RAW["networks"] == {"default": {"name": "nasiko-network", "labels": {"nasiko.stack": "true"}}}
    assert all("networks" not in spec for spec in RAW["services"].values())


@requires_compose
def test_default_host_ports_match_the_design(config):
    published = {}
    for port in config.published_ports():
        published.setdefault(port.service, set()).add(port.port)
    assert published == HOST_PORTS


@requires_compose
def test_every_published_port_binds_loopback_by_default(config):
    assert {p.host_ip for p in config.published_ports()} == {"127.0.0.1"}


def test_every_port_is_bound_to_the_bind_address_setting_and_overridable():
    for name, spec in RAW["services"].items():
        for entry in spec.get("ports", []):
            assert re.fullmatch(r"(\$\{NASIKO_BIND_ADDRESS:-127\.0\.0\.1\}|127\.0\.0\.1)"
                                r":\$\{NASIKO_PORT_[A-Z_]+:-\d+\}:\d+", entry), (name, entry)


def test_only_the_kong_admin_port_ignores_the_bind_address():
    fixed = [(n, e) for n, s in RAW["services"].items() for e in s.get("ports", []) if e.startswith("127.0.0.1:")]
    assert [n for n, _ in fixed] == ["kong"]


@pytest.mark.parametrize("name", list(RAW["services"]))
def test_every_long_running_service_has_a_real_health_check(name):
    test = RAW["services"][name]["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    assert "curl" not in " ".join(test), "slim images have no curl"
    assert "start_interval" not in RAW["services"][name]["healthcheck"], "needs an engine API newer than 1.41"


def test_start_order_waits_on_health_not_on_start():
    for name, spec in RAW["services"].items():
        for dependency, rule in (spec.get("depends_on") or {}).items():
            assert rule == {"condition": "service_healthy"}, (name, dependency)


@requires_compose
def test_own_services_are_built_here_and_named_registry_service_version(config):
    for name in OWN:
        assert config.built_here(name)
        assert config.image(name) == f"nasiko/{name}:latest"


@requires_compose
def test_third_party_images_are_parameterised():
    raw = (ROOT / "docker-compose.nasiko.yml").read_text()
    for setting in ("MONGO_IMAGE", "REDIS_IMAGE", "KONG_IMAGE", "PYTHON_IMAGE"):
        assert f"${{{setting}:-" in raw


def test_only_worker_and_registry_see_the_docker_socket_and_the_registry_read_only():
    mounts = {n: [v for v in s.get("volumes", []) if "docker.sock" in v] for n, s in RAW["services"].items()}
    assert {n for n, v in mounts.items() if v} == {"nasiko-worker", "kong-service-registry"}
    assert mounts["kong-service-registry"][0].endswith(":ro")


def test_optional_parts_sit_in_their_profiles():
    assert RAW["services"]["kong"]["profiles"] == ["gateway"]
    assert RAW["services"]["langtrace"]["profiles"] == ["observability"]
    assert all("profiles" not in RAW["services"][n] for n in [*OWN, "mongodb", "redis"])


def test_redis_persists_with_append_only_file():
    command = RAW["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"

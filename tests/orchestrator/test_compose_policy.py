import pytest
import yaml

from orchestrator.compose_policy import UnsafeComposeKey, run_options
from orchestrator.validate import InvalidAgent


def options_for(tmp_path, service: dict, allowed=frozenset(), extra_services=None):
    compose = {"services": {"echo": service, **(extra_services or {})}}
    return run_options(yaml.safe_load(yaml.safe_dump(compose)), "echo", tmp_path, frozenset(allowed))


def test_environment_overrides_env_file_values(tmp_path):
    (tmp_path / "agent.env").write_text("MODE=file\nONLY_IN_FILE=1\n# comment\n")
    options = options_for(tmp_path, {"env_file": "agent.env", "environment": ["MODE=compose", "FROM_HOST"]})
    assert options.environment == {"MODE": "compose", "ONLY_IN_FILE": "1"}


def test_missing_optional_env_file_is_skipped_and_missing_required_one_is_an_error(tmp_path):
    assert options_for(tmp_path, {"env_file": [{"path": "nope.env", "required": False}]}).environment == {}
    with pytest.raises(InvalidAgent, match="env_file 'nope.env' does not exist"):
        options_for(tmp_path, {"env_file": ["nope.env"]})


@pytest.mark.parametrize("path", ["../secrets.env", "/etc/passwd"])
def test_env_file_outside_the_folder_is_refused(tmp_path, path):
    folder = tmp_path / "echo"
    folder.mkdir()
    (tmp_path / "secrets.env").write_text("A=1\n")
    with pytest.raises(InvalidAgent, match="outside the agent folder|absolute path"):
        run_options({"services": {"echo": {"env_file": path}}}, "echo", folder)


def test_command_and_named_volumes_are_taken_and_volumes_are_namespaced(tmp_path):
    options = options_for(tmp_path, {"command": ["python", "main.py"], "volumes": ["data:/data:ro"]})
    assert options.command == ["python", "main.py"]
    assert options.volumes == {"nasiko-agent.echo.data": {"bind": "/data", "mode": "ro"}}
    assert options.named_volumes == ["nasiko-agent.echo.data"]


@pytest.mark.parametrize(
    ("service", "key"),
    [
        ({"privileged": True}, "privileged"),
        ({"pid": "host"}, "pid"),
        ({"cap_add": ["NET_ADMIN"]}, "cap_add"),
        ({"devices": ["/dev/kvm:/dev/kvm"]}, "devices"),
        ({"volumes": ["./data:/data"]}, "bind_mounts"),
        ({"volumes": ["/var/run/docker.sock:/var/run/docker.sock"]}, "bind_mounts"),
        ({"volumes": [{"type": "bind", "source": "/", "target": "/host"}]}, "bind_mounts"),
    ],
)
def test_unsafe_keys_are_refused_naming_the_key_and_the_opt_in(tmp_path, service, key):
    with pytest.raises(UnsafeComposeKey, match=f"WORKER_ALLOW_UNSAFE={key}"):
        options_for(tmp_path, service)


def test_unsafe_keys_apply_when_the_user_allows_them(tmp_path):
    options = options_for(
        tmp_path,
        {"privileged": True, "cap_add": ["NET_ADMIN"], "volumes": ["./data:/data"]},
        allowed={"privileged", "cap_add", "bind_mounts"},
    )
    assert options.privileged is True
    assert options.cap_add == ["NET_ADMIN"]
    assert options.volumes == {"./data": {"bind": "/data", "mode": "rw"}}


def test_network_mode_is_refused_even_when_allowed(tmp_path):
    with pytest.raises(UnsafeComposeKey, match="network_mode: host"):
        options_for(tmp_path, {"network_mode": "host"}, allowed={"network_mode"})


def test_unapplied_keys_are_reported(tmp_path):
    options = options_for(tmp_path, {"build": ".", "ports": ["5000:5000"], "mem_limit": "1g"})
    assert options.notes == ["docker-compose.yml keys not applied by the worker: mem_limit"]


def test_companion_services_run_from_their_image_with_their_settings_and_the_agents_volumes(tmp_path):
    options = options_for(
        tmp_path,
        {"build": ".", "volumes": ["data:/data"]},
        extra_services={"cache": {"image": "redis:7", "command": ["redis-server", "--appendonly", "yes"],
                                  "environment": {"A": "1"}, "volumes": ["data:/srv"], "cpus": 1}},
    )
    [cache] = options.companions
    assert (cache.service, cache.image) == ("cache", "redis:7")
    assert cache.options.command == ["redis-server", "--appendonly", "yes"]
    assert cache.options.environment == {"A": "1"}
    assert cache.options.volumes == {"nasiko-agent.echo.data": {"bind": "/srv", "mode": "rw"}}  # the agent's volume
    assert options.notes == ["companion cache: docker-compose.yml keys not applied by the worker: cpus"]


@pytest.mark.parametrize(
    ("companion", "complaint"),
    [
        ({"build": "./db"}, "needs an `image:`"),
        ({"image": "redis:7", "privileged": True}, "service 'db' uses `privileged: true`"),
        ({"image": "redis:7", "volumes": ["/var/run/docker.sock:/s"]}, "WORKER_ALLOW_UNSAFE=bind_mounts"),
        ({"image": "redis:7", "network_mode": "host"}, "network_mode: host"),
    ],
)
def test_companions_are_held_to_the_same_policy(tmp_path, companion, complaint):
    with pytest.raises(InvalidAgent, match=complaint):
        options_for(tmp_path, {"build": "."}, extra_services={"db": companion})


@pytest.mark.parametrize(("name", "complaint"), [("redis", "name of a stack service"), ("My DB", "lowercase")])
def test_a_companion_name_the_agent_could_not_reach_it_by_is_refused(tmp_path, name, complaint):
    with pytest.raises(InvalidAgent, match=complaint):
        options_for(tmp_path, {"build": "."}, extra_services={name: {"image": "redis:7"}})


def test_healthcheck_durations_become_nanoseconds(tmp_path):
    options = options_for(
        tmp_path,
        {
            "healthcheck": {
                "test": "curl -f localhost:5000",
                "interval": "1m30s",
                "timeout": "500ms",
                "retries": 3,
            }
        },
    )
    assert options.healthcheck == {
        "test": ["CMD-SHELL", "curl -f localhost:5000"],
        "interval": 90_000_000_000,
        "timeout": 500_000_000,
        "retries": 3,
    }


@pytest.mark.parametrize(
    ("service", "complaint"),
    [
        ({"healthcheck": {"test": "true", "interval": "1.5.0s"}}, "duration '1.5.0s' is not valid"),
        ({"healthcheck": {"test": "true", "retries": "many"}}, "retries 'many' is not valid"),
        ({"healthcheck": {"test": 123}}, "healthcheck test 123 is not valid"),
        ({"environment": "A=1"}, "environment must be a mapping"),
        ({"env_file": 5}, "env_file must be a path"),
        ({"env_file": [{"required": True}]}, "is not a path"),
        ({"volumes": ["${HOME}:/h"]}, "does not expand"),
        ({"volumes": "data:/x"}, "volumes must be a list"),
        ({"healthcheck": "true"}, "healthcheck must be a mapping"),
    ],
)
def test_malformed_service_settings_are_refused_with_what_to_write(tmp_path, service, complaint):
    with pytest.raises(InvalidAgent, match=complaint):
        options_for(tmp_path, service)


def test_an_allowed_key_must_still_be_well_formed(tmp_path):
    with pytest.raises(InvalidAgent, match="cap_add must be a list"):
        options_for(tmp_path, {"cap_add": "NET_ADMIN"}, allowed={"cap_add"})


def test_a_service_name_that_is_not_text_is_refused(tmp_path):
    with pytest.raises(InvalidAgent, match="service names must be text"):
        run_options({"services": {"echo": {}, 5432: {"image": "postgres"}}}, "echo", tmp_path)


def test_a_companion_is_named_in_its_own_errors(tmp_path):
    with pytest.raises(InvalidAgent, match="of service 'db'"):
        options_for(tmp_path, {"build": "."}, extra_services={"db": {"image": "x", "volumes": ["${V}:/x"]}})


def test_an_env_file_that_is_not_text_is_refused(tmp_path):
    (tmp_path / "agent.env").write_bytes(b"A=\xff\xfe\x00\x81\n")
    with pytest.raises(InvalidAgent, match="not UTF-8 text"):
        options_for(tmp_path, {"env_file": "agent.env"})

from orchestrator.config import WorkerSettings


def test_redis_socket_timeout_outlasts_the_blocking_read():
    settings = WorkerSettings(_env_file=None, WORKER_BLOCK_MS=30_000)
    assert settings.redis_socket_timeout > 30


def test_image_prefix_is_local_unless_a_registry_is_set():
    assert WorkerSettings(_env_file=None, AGENT_REGISTRY_URL="").image_repository_prefix == "nasiko-agent"
    assert (
        WorkerSettings(_env_file=None, AGENT_REGISTRY_URL="reg.local:5000/agents/").image_repository_prefix
        == "reg.local:5000/agents"
    )


def test_only_secrets_that_are_set_reach_agents(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    assert WorkerSettings(_env_file=None).runtime_secrets() == {"OPENAI_API_KEY": "sk-test"}


def test_unsafe_opt_ins_are_read_as_a_set():
    settings = WorkerSettings(_env_file=None, WORKER_ALLOW_UNSAFE=" privileged , cap_add,")
    assert settings.allowed_unsafe_keys == {"privileged", "cap_add"}


def _agent_environment(**settings) -> dict[str, str]:
    from types import SimpleNamespace

    from orchestrator.deploy import Deployer

    worker = SimpleNamespace(settings=WorkerSettings(_env_file=None, **settings))
    return Deployer._environment(worker, "echo", {"MODE": "compose"})


def test_agents_get_no_tracing_settings_unless_instrumentation_is_on(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert _agent_environment(AGENT_INSTRUMENTATION="off") == {"MODE": "compose"}


def test_instrumentation_on_switches_the_sdk_on_and_points_it_at_the_collector(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    env = _agent_environment(AGENT_INSTRUMENTATION="on", OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318",
                             LANGTRACE_API_KEY="lt-test")
    assert env["OTEL_SDK_DISABLED"] == "false"  # images that ship it disabled (crewai) turn it on
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"
    assert env["OTEL_SERVICE_NAME"] == "echo" and env["LANGTRACE_API_KEY"] == "lt-test"
    assert env["MODE"] == "compose"

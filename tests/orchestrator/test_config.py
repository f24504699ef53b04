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

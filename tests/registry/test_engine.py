"""The registry engine's guarantees, without Docker events: one bad agent
never takes the others' routes down, and a discovery failure never empties
the routes."""

import asyncio
from pathlib import Path

import docker
import yaml

from nasiko_registry.discovery import list_containers, select_agents
from nasiko_registry.engine import Registry
from nasiko_registry.settings import RegistrySettings
from tests.registry.scripted_peer import Reply, ScriptedPeer
from tests.registry.test_discovery import container
from tests.registry.test_kong_client import flattened


def routed(path: Path) -> list[str]:
    config = yaml.safe_load(path.read_text())
    return [s["name"] for s in config["services"] if "nasiko-agent" in s.get("tags", [])]


def settings(tmp_path: Path, kong_url: str) -> RegistrySettings:
    return RegistrySettings(agent_network="agents", kong_admin_url=kong_url,
                            kong_config_path=tmp_path / "kong.yml")


def agents(*names: str):
    return select_agents([container(n) for n in names], "agents").agents


def test_agent_rejected_by_kong_is_dropped_and_the_rest_pushed_again(tmp_path):
    def kong(seen):
        if "nasiko-agent:bad" in seen.json()["config"]:
            return Reply(400, flattened("bad"))
        return Reply(201, {})

    async def scenario(url: str) -> Registry:
        registry = Registry(settings(tmp_path, url))
        registry._apply(agents("bad", "news", "weather"), {})
        result = await registry.publish()
        await registry.stop()
        assert result is not None and result.outcome == "applied"
        return registry

    with ScriptedPeer(kong) as peer:
        registry = asyncio.run(scenario(peer.url))
    assert len(peer.requests) == 2
    assert [a.name for a in registry.snapshot.agents] == ["news", "weather"]
    reason = registry.snapshot.excluded["bad"]
    assert reason == "Kong rejected its entities: paths.1: must not have empty segments"
    assert routed(tmp_path / "kong.yml") == ["news", "weather"]


def test_a_rejection_kong_does_not_tie_to_an_agent_is_reported_not_looped(tmp_path):
    body = {"message": "declarative config is invalid", "flattened_errors": []}

    async def scenario(url: str):
        registry = Registry(settings(tmp_path, url))
        registry._apply(agents("weather"), {})
        result = await registry.publish()
        await registry.stop()
        return registry, result

    with ScriptedPeer(lambda seen: Reply(400, body)) as peer:
        registry, result = asyncio.run(scenario(peer.url))
    assert result.outcome == "invalid" and len(peer.requests) == 1
    assert registry.snapshot.kong["outcome"] == "invalid"
    assert [a.name for a in registry.snapshot.agents] == ["weather"]


def test_discovery_failure_keeps_the_last_agents_and_pushes_nothing(tmp_path):
    dead_engine = docker.DockerClient(base_url=f"unix://{tmp_path}/no-docker.sock", version="1.41")

    async def scenario(url: str):
        registry = Registry(settings(tmp_path, url), docker_client=dead_engine)
        registry._apply(agents("news", "weather"), {})
        before = (tmp_path / "kong.yml").read_text()
        result = await registry.sync("test")
        await registry.stop()
        return registry, result, before

    with ScriptedPeer(lambda seen: Reply(201, {})) as peer:
        registry, result, before = asyncio.run(scenario(peer.url))
    assert result["ok"] is False
    assert "cannot list containers from Docker" in result["error"]
    assert [a.name for a in registry.snapshot.agents] == ["news", "weather"]
    assert (tmp_path / "kong.yml").read_text() == before
    assert peer.requests == []


def test_the_config_file_is_replaced_whole_and_readable_by_kong(tmp_path):
    async def scenario():
        registry = Registry(settings(tmp_path, ""))
        registry._apply(agents("weather"), {})
        registry._apply(agents("news"), {})
        await registry.stop()

    asyncio.run(scenario())
    path = tmp_path / "kong.yml"
    assert routed(path) == ["news"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["kong.yml"]  # no temp files left behind


class CountingRegistry(Registry):
    """The real engine listing the real Docker engine, counting its syncs
    (and not following events, so other tests' containers cannot add syncs)."""

    lists = 0

    def _list(self) -> list[dict]:
        self.lists += 1
        if self.docker is None:
            self.docker = docker.from_env(version="auto")
        return list_containers(self.docker)


def test_a_burst_of_triggers_collapses_into_few_syncs_and_the_latest_reason_wins(tmp_path):
    async def scenario() -> CountingRegistry:
        conf = settings(tmp_path, "")
        conf.registry_min_sync_interval_seconds = 0.3
        registry = CountingRegistry(conf)
        await registry.start()
        for _ in range(100):  # wait for the startup sync
            if registry.lists:
                break
            await asyncio.sleep(0.02)
        before = registry.lists
        for i in range(50):
            registry.request_sync(f"burst {i}")
            await asyncio.sleep(0.005)
        await asyncio.sleep(1.0)
        registry.burst_syncs = registry.lists - before
        await registry.stop()
        return registry

    registry = asyncio.run(scenario())
    # 50 triggers over ~0.3 s, at most one sync per 0.3 s: a handful, not 50.
    assert 1 <= registry.burst_syncs <= 3
    assert registry.snapshot.last_sync_reason == "burst 49"

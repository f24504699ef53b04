"""Pushing to Kong's `POST /config`, against a scripted HTTP peer.

Kong cannot run here (no image, no package): the peer is a real HTTP server
on a loopback port that answers the way Kong 3's `kong/api/routes/config.lua`
does (201, 304, 429 + Retry-After, 400 + flattened_errors, 413, 503, 504).
"""

import asyncio
import time

import httpx

from nasiko_registry.kong_client import KongAdmin, PushResult
from tests.registry.scripted_peer import Reply, ScriptedPeer
from tests.utils.redis_server import free_port


def push(url: str, configs, **kwargs) -> PushResult:
    """Push through a fresh client; `configs` is called before every attempt."""
    async def run() -> PushResult:
        async with httpx.AsyncClient(timeout=5, trust_env=False) as http:
            return await KongAdmin(url, http, **kwargs).push(configs)
    return asyncio.run(run())


def flattened(*agents: str) -> dict:
    """A 400 body like Kong's `errors:declarative_config_flattened`."""
    return {
        "code": 14, "name": "invalid declarative configuration",
        "message": "declarative config is invalid: {}", "fields": {},
        "flattened_errors": [
            {"entity_type": "route", "entity_name": name,
             "entity_tags": ["nasiko-agent", f"nasiko-agent:{name}"],
             "entity": {"name": name}, "errors": [{"type": "field", "field": "paths.1",
                                                  "message": "must not have empty segments"}]}
            for name in agents
        ],
    }


def test_201_is_applied_and_the_request_asks_for_hash_check_and_flat_errors():
    with ScriptedPeer([Reply(201, {})]) as peer:
        result = push(peer.url, lambda: "_format_version: '3.0'\n")
    assert result.ok and result.outcome == "applied"
    sent = peer.requests[0]
    assert (sent.method, sent.path) == ("POST", "/config")
    assert sent.query == {"check_hash": ["1"], "flatten_errors": ["1"]}
    # Sent as a string so Kong hashes it (check_hash only works then).
    assert sent.json() == {"config": "_format_version: '3.0'\n"}


def test_304_unchanged_counts_as_success():
    with ScriptedPeer([Reply(304)]) as peer:
        result = push(peer.url, lambda: "same")
    assert result.ok and result.outcome == "unchanged"
    assert len(peer.requests) == 1


def test_429_waits_retry_after_then_pushes_the_latest_config():
    versions = iter(["config v1", "config v2"])
    with ScriptedPeer([Reply(429, {"message": "Currently loading previous configuration"},
                             headers={"Retry-After": "1"}), Reply(201, {})]) as peer:
        start = time.monotonic()
        result = push(peer.url, lambda: next(versions))
        waited = time.monotonic() - start
    assert result.outcome == "applied"
    assert waited >= 1.0
    assert [r.json()["config"] for r in peer.requests] == ["config v1", "config v2"]


def test_429_is_retried_a_bounded_number_of_times():
    busy = Reply(429, {"message": "Currently loading previous configuration"}, headers={"Retry-After": "0"})
    with ScriptedPeer(lambda seen: busy) as peer:
        result = push(peer.url, lambda: "c", max_attempts=3)
    assert result.outcome == "busy" and not result.ok
    assert len(peer.requests) == 3
    assert "gave up after 3 attempts" in result.message


def test_400_returns_per_entity_errors_naming_the_offending_agents():
    with ScriptedPeer([Reply(400, flattened("bad"))]) as peer:
        result = push(peer.url, lambda: "c")
    assert result.outcome == "invalid"
    assert result.offending_agents == {"bad"}
    error = result.entity_errors[0]
    assert (error.entity_type, error.entity_name) == ("route", "bad")
    assert error.messages == ["paths.1: must not have empty segments"]
    assert len(peer.requests) == 1  # the caller decides what to drop


def test_413_is_reported_with_the_fix_and_not_retried():
    body = {"message": "Configuration does not fit in LMDB database, consider raising the \"lmdb_map_size\""}
    with ScriptedPeer([Reply(413, body)]) as peer:
        result = push(peer.url, lambda: "c")
    assert result.outcome == "too_large"
    assert "KONG_LMDB_MAP_SIZE" in result.message
    assert len(peer.requests) == 1


def test_503_is_retried_then_reported():
    with ScriptedPeer(lambda seen: Reply(503, {"message": "Kong currently exiting"})) as peer:
        result = push(peer.url, lambda: "c", max_attempts=2)
    assert result.outcome == "unavailable"
    assert "Kong currently exiting" in result.message
    assert len(peer.requests) == 2


def test_504_then_201_succeeds_on_retry():
    timed_out = Reply(504, {"message": "Timed out while loading configuration"})
    with ScriptedPeer([timed_out, Reply(201, {})]) as peer:
        result = push(peer.url, lambda: "c")
    assert result.outcome == "applied"
    assert len(peer.requests) == 2


def test_no_kong_listening_is_unreachable_not_an_exception():
    result = push(f"http://127.0.0.1:{free_port()}", lambda: "c", max_attempts=1)
    assert result.outcome == "unreachable"
    assert "did not answer" in result.message

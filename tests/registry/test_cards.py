"""Agent cards: where they are fetched from, and that every URL in them is
moved onto the gateway (a card saying http://localhost:8000 must not leak)."""

import asyncio
import json
from pathlib import Path

import httpx

from nasiko_registry.cards import CardResult, fetch_card, rewrite_urls
from tests.registry.scripted_peer import Reply, ScriptedPeer
from tests.utils.redis_server import free_port

GATEWAY = "http://localhost:9100"
CARD = {"name": "Weather", "url": "http://localhost:8000/", "skills": [], "version": "1.0"}


def fetch(base: str, **kwargs) -> CardResult:
    async def run() -> CardResult:
        async with httpx.AsyncClient(timeout=2, trust_env=False) as http:
            return await fetch_card(http, base, name="weather", public_url=GATEWAY, **kwargs)
    return asyncio.run(run())


def serving(routes: dict[str, Reply]):
    return ScriptedPeer(lambda seen: routes.get(seen.path, Reply(404, {"detail": "Not Found"})))


def test_card_is_fetched_from_agent_card_json_and_its_url_points_at_the_gateway():
    with serving({"/.well-known/agent-card.json": Reply(200, CARD)}) as agent:
        result = fetch(agent.url)
    assert result.status == "ok"
    assert result.card["url"] == "http://localhost:9100/weather/"
    assert result.card["name"] == "Weather"
    assert result.source == f"{agent.url}/.well-known/agent-card.json"


def test_older_agents_serving_agent_json_are_found_next():
    with serving({"/.well-known/agent.json": Reply(200, CARD)}) as agent:
        result = fetch(agent.url)
    assert result.status == "ok"
    assert result.source.endswith("/.well-known/agent.json")
    assert [r.path for r in agent.requests] == ["/.well-known/agent-card.json", "/.well-known/agent.json"]


def test_the_folders_agentcard_json_is_the_last_resort(tmp_path: Path):
    card_file = tmp_path / "weather" / "u1" / "AgentCard.json"
    card_file.parent.mkdir(parents=True)
    card_file.write_text(json.dumps(CARD))
    with serving({}) as agent:
        result = fetch(agent.url, card_path=str(card_file), uploads_dir=tmp_path)
    assert result.status == "ok" and result.source == str(card_file)
    assert result.card["url"] == "http://localhost:9100/weather/"


def test_a_card_path_outside_the_uploads_volume_is_refused(tmp_path: Path):
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps(CARD))
    with serving({}) as agent:
        result = fetch(agent.url, card_path=str(outside), uploads_dir=tmp_path / "uploads")
    assert result.status == "invalid"
    assert "outside" in result.error


def test_an_invalid_card_marks_the_card_invalid_with_the_reason():
    with serving({"/.well-known/agent-card.json": Reply(200, {"description": "no name"})}) as agent:
        result = fetch(agent.url)
    assert result.status == "invalid" and result.final
    assert "has no 'name'" in result.error


def test_an_agent_serving_no_card_is_missing():
    with serving({}) as agent:
        result = fetch(agent.url)
    assert result.status == "missing" and result.final


def test_an_agent_not_listening_yet_is_unreachable_and_worth_a_retry():
    result = fetch(f"http://127.0.0.1:{free_port()}")
    assert result.status == "unreachable"
    assert not result.final


def test_every_url_in_the_card_is_moved_onto_the_gateway_keeping_its_path():
    card = {**CARD, "url": "http://0.0.0.0:5000/a2a/v1",
            "additionalInterfaces": [{"url": "http://localhost:5000/", "transport": "JSONRPC"}],
            "supportedInterfaces": [{"url": "http://weather:5000/rpc", "protocolBinding": "JSONRPC"}]}
    rewritten = rewrite_urls(card, "http://localhost:9100/weather/")
    assert rewritten["url"] == "http://localhost:9100/weather/a2a/v1"
    assert rewritten["additionalInterfaces"][0]["url"] == "http://localhost:9100/weather/"
    assert rewritten["supportedInterfaces"][0]["url"] == "http://localhost:9100/weather/rpc"
    assert card["url"] == "http://0.0.0.0:5000/a2a/v1"  # the original is left alone


def test_a_card_without_url_gets_the_gateway_url():
    assert rewrite_urls({"name": "x"}, "http://localhost:9100/x/")["url"] == "http://localhost:9100/x/"

"""The minimal A2A agent, built from agents/a2a-minimal and run on the engine."""

from pathlib import Path

import httpx
import pytest

from tests.e2e.agent_containers import AgentLab, send_message

pytestmark = pytest.mark.e2e
AGENT = Path(__file__).resolve().parents[2] / "agents/a2a-minimal"


@pytest.fixture(scope="module")
def minimal_agent():
    with AgentLab() as lab:
        container = lab.run(lab.build(AGENT, "a2a-minimal"), name_prefix="a2a-minimal")
        yield lab.wait_http(container, "/health")


def test_card_is_served_at_both_well_known_paths(minimal_agent):
    for path in ("/.well-known/agent-card.json", "/.well-known/agent.json"):
        card = httpx.get(f"{minimal_agent}{path}", timeout=5).json()
        assert (card["name"], card["skills"][0]["id"]) == ("a2a-minimal", "echo")


def test_message_send_echoes_the_text(minimal_agent):
    answer = send_message(minimal_agent, "hello there")

    assert answer["id"] == 1
    assert answer["result"]["role"] == "agent"
    assert answer["result"]["parts"] == [{"kind": "text", "text": "echo: hello there"}]


def test_unknown_method_is_a_json_rpc_error(minimal_agent):
    answer = send_message(minimal_agent, "x", method="tasks/resubscribe")

    assert answer["error"]["code"] == -32601

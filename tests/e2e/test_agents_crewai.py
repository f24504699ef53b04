"""The CrewAI agent, built from agents/crewai, answering through a real crew
whose LLM is the OpenAI-compatible stub in tests/fixtures/llm_stub."""

from pathlib import Path

import httpx
import pytest

from tests.e2e.agent_containers import AgentLab, send_message

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lab():
    with AgentLab() as agent_lab:
        yield agent_lab


@pytest.fixture(scope="module")
def crewai_image(lab):
    return lab.build(ROOT / "agents/crewai", "crewai")


@pytest.fixture(scope="module")
def llm_stub(lab):
    container = lab.run(lab.build(ROOT / "tests/fixtures/llm_stub", "llm-stub"), name_prefix="llm-stub")
    return container, lab.wait_http(container, "/health", port=8000)


@pytest.fixture(scope="module")
def crewai_with_llm(lab, crewai_image, llm_stub):
    stub_container, _ = llm_stub
    container = lab.run(
        crewai_image,
        name_prefix="crewai",
        environment={
            "OPENAI_API_KEY": "sk-test-not-a-secret",
            # Container DNS on the test network: the stub's container name.
            "OPENAI_BASE_URL": f"http://{stub_container.name}:8000/v1",
            "OPENAI_MODEL": "stub-model",
        },
    )
    return lab.wait_http(container, "/health", timeout=120)


@pytest.fixture(scope="module")
def crewai_without_llm_container(lab, crewai_image):
    return lab.run(crewai_image, name_prefix="crewai-nollm")


@pytest.fixture(scope="module")
def crewai_without_llm(lab, crewai_without_llm_container):
    return lab.wait_http(crewai_without_llm_container, "/health", timeout=120)


def test_crew_answers_message_send_with_the_llm_answer(crewai_with_llm, llm_stub):
    _, stub_url = llm_stub

    answer = send_message(crewai_with_llm, "What is the A2A protocol for?")

    [part] = answer["result"]["parts"]
    exchanges = httpx.get(f"{stub_url}/v1/requests", timeout=5).json()
    # Two agents (researcher, writer): at least one LLM call each; the answer
    # is the writer's final answer, exactly as the stub gave it.
    assert len(exchanges) >= 2
    assert any("What is the A2A protocol for?" in str(e["messages"]) for e in exchanges)
    assert part["text"] == exchanges[-1]["answer"].split("Final Answer:", 1)[1].strip()
    assert part["text"].startswith("[llm-stub] ")


def test_without_a_key_card_and_health_are_served(crewai_without_llm):
    health = httpx.get(f"{crewai_without_llm}/health", timeout=5).json()
    card = httpx.get(f"{crewai_without_llm}/.well-known/agent-card.json", timeout=5).json()

    assert health == {"status": "ok", "llm_configured": False}
    assert card["name"] == "crewai"


def test_without_a_key_message_send_says_no_llm_is_configured(crewai_without_llm):
    answer = send_message(crewai_without_llm, "hello")

    assert "result" not in answer
    assert "no LLM configured" in answer["error"]["message"]
    assert "OPENAI_API_KEY" in answer["error"]["message"]


def test_a_refused_request_is_one_log_line_not_a_traceback(crewai_without_llm, crewai_without_llm_container):
    send_message(crewai_without_llm, "hello")
    logs = crewai_without_llm_container.logs().decode("utf-8", "replace")

    assert "no LLM configured" in logs
    assert "Traceback" not in logs, logs[-2000:]

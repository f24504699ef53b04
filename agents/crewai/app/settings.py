"""What the agent reads from its environment. Secrets arrive at run time
(the worker passes them to the container); none is baked into the image."""

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    openai_api_key: str = field(default_factory=lambda: os.environ.get("OPENAI_API_KEY", ""))
    # Any OpenAI-compatible endpoint (a proxy, a local model server, a test stub).
    openai_base_url: str = field(default_factory=lambda: os.environ.get("OPENAI_BASE_URL", ""))
    openai_model: str = field(default_factory=lambda: os.environ.get("OPENAI_MODEL", "") or "gpt-4o-mini")
    card_path: Path = field(
        default_factory=lambda: Path(
            os.environ.get("AGENT_CARD_PATH", Path(__file__).parent.parent / "AgentCard.json")
        )
    )
    # The URL other agents and the platform reach this agent at (written into its card).
    public_url: str = field(default_factory=lambda: os.environ.get("AGENT_PUBLIC_URL", ""))
    port: int = field(default_factory=lambda: int(os.environ.get("PORT", "5000")))

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key)

"""The agent card: AgentCard.json (the A2A 0.3 layout the platform reads),
turned into the SDK's card. The SDK serves both layouts merged, so 0.3 and
1.0 clients can each read it."""

import json

from a2a.compat.v0_3.conversions import to_core_agent_card
from a2a.compat.v0_3.types import AgentCard as CompatAgentCard
from a2a.types import AgentCard

from .settings import Settings


def load_card(settings: Settings) -> AgentCard:
    data = json.loads(settings.card_path.read_text())
    if settings.public_url:
        data["url"] = settings.public_url
    return to_core_agent_card(CompatAgentCard.model_validate(data))

"""The `nasiko.*` container labels the worker sets, decoded into a typed object.

    decode_labels({"nasiko.agent": "weather", "nasiko.port": "5000"})
    # AgentLabels(name='weather', port=5000, content_hash='', image='', ...)

A container whose labels cannot be decoded is not an error of the registry:
discovery logs it, reports it in /status and skips it (Traefik does the same
with bad `traefik.*` labels).
"""

from dataclasses import dataclass

AGENT = "nasiko.agent"
PORT = "nasiko.port"
CONTENT_HASH = "nasiko.content-hash"
IMAGE = "nasiko.image"
MANAGED_BY = "nasiko.managed-by"
# Optional, proposed: absolute path of the agent folder's AgentCard.json inside
# the uploads volume, used when the running agent serves no card itself.
CARD_PATH = "nasiko.card-path"

DEFAULT_PORT = 5000


class LabelError(ValueError):
    """A label is present but unusable; the message says which and why."""


@dataclass(frozen=True)
class AgentLabels:
    name: str
    port: int = DEFAULT_PORT
    content_hash: str = ""
    image: str = ""
    managed_by: str = ""
    card_path: str = ""


def decode_labels(labels: dict[str, str]) -> AgentLabels:
    """Decode the agent labels; raises LabelError naming the bad label."""
    name = (labels.get(AGENT) or "").strip()
    if not name:
        raise LabelError(f"label {AGENT} is empty: set it to the agent's name")
    raw_port = labels.get(PORT, str(DEFAULT_PORT)).strip()
    try:
        port = int(raw_port)
    except ValueError:
        raise LabelError(f"label {PORT}={raw_port!r} is not a port number (expected e.g. 5000)") from None
    if not 1 <= port <= 65535:
        raise LabelError(f"label {PORT}={port} is out of range (1-65535)")
    return AgentLabels(
        name=name,
        port=port,
        content_hash=labels.get(CONTENT_HASH, ""),
        image=labels.get(IMAGE, ""),
        managed_by=labels.get(MANAGED_BY, ""),
        card_path=labels.get(CARD_PATH, ""),
    )

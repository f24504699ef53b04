"""Settings of the kong-service-registry, read from its environment.

    settings = RegistrySettings()                  # from env / defaults
    RegistrySettings(agent_network="agents-test")  # in tests
"""

from pathlib import Path

from nasiko_service.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    # Docker network an agent container must sit on to be routed (exact name).
    agent_network: str = "nasiko-network"
    # Kong's admin API; empty disables pushing (the file is still written).
    kong_admin_url: str = "http://kong:8001"
    # Where Kong loads its declarative config from at start (shared volume).
    kong_config_path: Path = Path("/kong/declarative/kong.yml")
    # What users type in a browser: agents live at {gateway_public_url}/{name}/.
    gateway_public_url: str = "http://localhost:9100"
    # Safety net: a full re-list this often even when no Docker event arrives.
    registry_resync_seconds: float = 30.0
    # Throttle: at most one sync per this interval; events in between coalesce.
    registry_min_sync_interval_seconds: float = 0.2
    # Per-request timeout when fetching agent cards and talking to Kong.
    card_timeout_seconds: float = 2.0
    kong_timeout_seconds: float = 5.0
    # AgentCard.json files named by the `nasiko.card-path` label must live here.
    uploads_dir: Path = Path("/data/uploads")

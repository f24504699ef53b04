"""Worker settings, read once from the environment.

Usage::

    settings = WorkerSettings()                      # from env / .env
    settings = WorkerSettings(DOCKER_NETWORK="test")  # tests pass values directly

Image naming (the two settings keep one meaning everywhere):

- ``AGENT_REGISTRY_URL`` is the *repository prefix* of agent images. Empty (the
  default) gives local-only names ``nasiko-agent/<agent>``; set it to a registry
  path such as ``registry.local:5000/agents`` and images are named
  ``registry.local:5000/agents/<agent>`` so a team can push them. The worker
  itself never pushes.
- The image *tag* is always the first 16 hex digits of the build-context hash:
  that tag is the cache key (same content -> same tag -> no build).
  ``AGENT_IMAGE_TAG``, when set (e.g. ``latest``), is an extra moving tag the
  worker also points at the image it just deployed, for people who want a
  stable name to `docker run` by hand. It never decides whether to build.
"""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_IMAGE_PREFIX = "nasiko-agent"


class WorkerSettings(BaseSettings):
    # Environment only: Compose is the one interpreter of the stack's env file.
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    REDIS_URL: str = "redis://redis:6379/0"
    BACKEND_URL: str = "http://nasiko-backend:8000"
    # Where users reach agents through Kong; recorded as the status `url`.
    GATEWAY_PUBLIC_URL: str = "http://localhost:9100"
    # on | off, as for the stack: with the gateway off, messages give the in-network address.
    NASIKO_GATEWAY: str = "on"
    DOCKER_NETWORK: str = "nasiko-network"
    # Agent sources must live under this folder (the volume shared with the backend).
    UPLOADS_DIR: Path = Path("/data/uploads")

    AGENT_REGISTRY_URL: str = ""
    AGENT_IMAGE_TAG: str = ""

    WORKER_CONCURRENCY: int = Field(default=2, ge=1)
    WORKER_BUILD_TIMEOUT_SECONDS: float = Field(default=1200, gt=0)
    WORKER_READY_TIMEOUT_SECONDS: float = Field(default=120, gt=0)
    WORKER_MAX_DELIVERIES: int = Field(default=3, ge=1)
    # A pending entry idle this long belongs to a dead consumer and is reclaimed.
    # Live workers refresh their in-flight entries well within this time.
    WORKER_CLAIM_IDLE_SECONDS: float = Field(default=60, gt=0)
    WORKER_BLOCK_MS: int = Field(default=2000, ge=1)
    # Stable across restarts of the same container (its hostname), so a restarted
    # worker finds its own pending entries first.
    WORKER_CONSUMER_NAME: str = ""
    WORKER_HEARTBEAT_FILE: Path = Path("/tmp/nasiko-worker.heartbeat")
    WORKER_SHUTDOWN_GRACE_SECONDS: float = 8
    # Comma-separated compose keys the user explicitly allows despite the risk,
    # e.g. "privileged,cap_add". Empty: every unsafe key is refused.
    WORKER_ALLOW_UNSAFE: str = ""

    # on | off: OpenTelemetry settings handed to agents at run time.
    AGENT_INSTRUMENTATION: str = "off"
    OTEL_EXPORTER_OTLP_ENDPOINT: str = "http://langtrace:3000/api/trace"
    LANGTRACE_API_KEY: str = ""

    # Secrets handed to agent containers at run time, never at build time.
    OPENAI_API_KEY: str = ""
    OPENAI_BASE_URL: str = ""
    OPENAI_MODEL: str = ""

    # Network of agent builds' RUN steps: "default" (the engine's bridge) or
    # "host". Host lets RUN steps reach everything the host reaches, including
    # the stack's unauthenticated Redis/MongoDB/Kong admin on 127.0.0.1: use it
    # only where the bridge cannot reach the package registries (offline.env).
    WORKER_BUILD_NETWORK: str = Field(default="default", pattern="^(default|host)$")

    # Proxies for RUN steps of agent builds (Docker's predefined build args:
    # they are not recorded in the image history).
    HTTP_PROXY: str = ""
    HTTPS_PROXY: str = ""
    NO_PROXY: str = ""

    LOG_LEVEL: str = "info"

    @property
    def gateway_on(self) -> bool:
        return self.NASIKO_GATEWAY.strip().lower() not in {"off", "false", "no", "0"}

    @property
    def image_repository_prefix(self) -> str:
        return self.AGENT_REGISTRY_URL.rstrip("/") or LOCAL_IMAGE_PREFIX

    @property
    def redis_socket_timeout(self) -> float:
        """Longer than the blocking read, so a quiet stream is never a timeout."""
        return self.WORKER_BLOCK_MS / 1000 + 10

    @property
    def instrumentation_enabled(self) -> bool:
        return self.AGENT_INSTRUMENTATION.strip().lower() in {"on", "true", "1", "yes"}

    @property
    def allowed_unsafe_keys(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.WORKER_ALLOW_UNSAFE.split(",") if k.strip())

    def proxy_build_args(self) -> dict[str, str]:
        values = {"HTTP_PROXY": self.HTTP_PROXY, "HTTPS_PROXY": self.HTTPS_PROXY, "NO_PROXY": self.NO_PROXY}
        return {key: value for key, value in values.items() if value}

    def runtime_secrets(self) -> dict[str, str]:
        """Environment handed to every agent container (only the values that are set)."""
        values = {
            "OPENAI_API_KEY": self.OPENAI_API_KEY,
            "OPENAI_BASE_URL": self.OPENAI_BASE_URL,
            "OPENAI_MODEL": self.OPENAI_MODEL,
        }
        return {key: value for key, value in values.items() if value}

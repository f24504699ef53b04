"""Settings of nasiko-backend, read from its environment.

settings = BackendSettings()
settings.uploads_dir            # Path("/data/uploads"): shared with the worker
settings.max_upload_bytes       # 100 MB unless MAX_UPLOAD_MB says otherwise
settings.agent_url("crewai")    # "http://localhost:9100/crewai/"
"""

from pathlib import Path

from nasiko_service.settings import ServiceSettings


class BackendSettings(ServiceSettings):
    # Uploaded agent sources: a volume the worker mounts at the same path, so
    # the `agent_path` in a deploy command means the same thing to both.
    uploads_dir: Path = Path("/data/uploads")
    # Extra folders (besides uploads_dir) that POST /agents/upload-directory may
    # read from, separated by ":"; empty means none.
    allowed_agent_roots: str = ""
    max_upload_mb: int = 100
    max_upload_entries: int = 1000

    # Optional peer: the registry only adds detail to the health report.
    registry_url: str = "http://kong-service-registry:8080"
    # Where users reach agents: the Kong proxy. Registry records must point here.
    gateway_public_url: str = "http://localhost:9100"
    # Sent to the worker as `base_url`: where it calls this backend back.
    backend_url: str = "http://nasiko-backend:8000"

    # Upper bound of the long poll in GET /orchestration/events.
    events_max_wait_seconds: float = 25.0

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def allowed_roots(self) -> list[Path]:
        """Folders whose agent sources the backend may read: uploads first."""
        extra = [Path(p) for p in self.allowed_agent_roots.split(":") if p.strip()]
        return [self.uploads_dir, *extra]

    def agent_url(self, agent_name: str) -> str:
        """The one URL an agent is known by: its route on the gateway."""
        return f"{self.gateway_public_url.rstrip('/')}/{agent_name}/"

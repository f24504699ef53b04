"""nasiko-router: picks the best agent for a query and forwards it (port 8081).

Only its health endpoint exists yet (it needs the registry, which lists the
agents it will choose from); routing comes with its own issue.
"""

from nasiko_service.app import http_probe, service_app
from nasiko_service.health import Check
from nasiko_service.settings import ServiceSettings


class Settings(ServiceSettings):
    registry_url: str = "http://kong-service-registry:8080"


settings = Settings()
app = service_app("nasiko-router", settings, http=True,
                  checks=lambda app: [Check("registry", http_probe(app, f"{settings.registry_url}/health"))])

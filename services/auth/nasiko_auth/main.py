"""nasiko-auth: users, access keys and token validation (port 8082).

Only its health endpoint exists yet; the auth API comes with its own issue.
"""

from nasiko_service.app import service_app
from nasiko_service.health import Check
from nasiko_service.mongo import mongo_probe
from nasiko_service.settings import ServiceSettings

settings = ServiceSettings()
app = service_app("nasiko-auth", settings, mongo=True,
                  checks=lambda app: [Check("mongodb", mongo_probe(app.state.mongo, settings), timeout=3)])

"""chat-history: stores conversations (port 8083).

Only its health endpoint exists yet; the conversation API comes with its own issue.
"""

from nasiko_service.app import service_app
from nasiko_service.health import Check
from nasiko_service.mongo import mongo_probe
from nasiko_service.settings import ServiceSettings

settings = ServiceSettings()
app = service_app("chat-history", settings, mongo=True,
                  checks=lambda app: [Check("mongodb", mongo_probe(app.state.mongo, settings), timeout=3)])

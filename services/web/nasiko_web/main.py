"""nasiko-web: the web UI (port 4000): agents, deployments, chat.

Serves its page; the UI's views come with their own issue.
"""

from fastapi.responses import HTMLResponse

from nasiko_service.app import http_probe, service_app
from nasiko_service.health import Check
from nasiko_service.settings import ServiceSettings


class Settings(ServiceSettings):
    backend_url: str = "http://nasiko-backend:8000"


settings = Settings()
# The page is served by this process; the backend is a peer it can live without.
app = service_app("nasiko-web", settings, http=True, checks=lambda app: [
    Check("backend", http_probe(app, f"{settings.backend_url}/api/v1/healthcheck"), required=False)])

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nasiko</title></head>
<body><h1>Nasiko</h1><p>Local development stack.</p></body></html>
"""


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE

"""`python -m app`: serve the agent on 0.0.0.0:$PORT (5000)."""

import logging

import uvicorn

from .server import RefusalsInOneLine, create_app
from .settings import Settings

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RefusalsInOneLine())
    settings = Settings()
    if not settings.llm_configured:
        logging.getLogger("crewai-agent").warning("OPENAI_API_KEY is not set: requests will be refused")
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.port)

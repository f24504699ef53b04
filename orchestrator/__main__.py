"""Entry point: `python -m orchestrator` runs the worker until SIGTERM."""

import logging

from .config import WorkerSettings
from .worker import run_worker


def main() -> None:
    settings = WorkerSettings()
    logging.basicConfig(
        level=settings.LOG_LEVEL.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    # One line per readiness probe would drown the deployments in the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run_worker(settings)


if __name__ == "__main__":
    main()

"""One log format for every service, so `invoke logs` reads the same everywhere."""

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    # Health checks call peers every few seconds: one INFO line each would
    # bury everything else in `invoke logs`.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuietHealthChecks) for f in access.filters):
        access.addFilter(QuietHealthChecks())


# Asked every few seconds by Docker's health checks and by peers.
HEALTH_PATHS = frozenset({"/health", "/api/v1/healthcheck"})


class QuietHealthChecks(logging.Filter):
    """Drops uvicorn's access lines for health checks; every other request is logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, path with query, http version, status)
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            return args[2].split("?", 1)[0] not in HEALTH_PATHS
        return True

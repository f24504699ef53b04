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

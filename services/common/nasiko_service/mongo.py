"""MongoDB client factory and its health probe."""

from pymongo import AsyncMongoClient

from .settings import ServiceSettings


def mongo_client(settings: ServiceSettings) -> AsyncMongoClient:
    return AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=2000, tz_aware=True)


def mongo_probe(client: AsyncMongoClient, settings: ServiceSettings):
    async def ping() -> None:
        try:
            await client.admin.command("ping")
        except Exception as exc:
            # Name the address, and keep PyMongo's first clause only (it appends
            # timeouts and a whole topology description).
            address = f"{settings.mongo_host}:{settings.mongo_port}"
            reason = str(exc).split(" (configured timeouts")[0].split(", Timeout:")[0].removeprefix(f"{address}: ")
            raise ConnectionError(f"MongoDB at {address}: {reason or type(exc).__name__}") from exc

    return ping

"""MongoDB client factory and its health probe."""

from pymongo import AsyncMongoClient

from .settings import ServiceSettings


def mongo_client(settings: ServiceSettings) -> AsyncMongoClient:
    return AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=2000, tz_aware=True)


def mongo_probe(client: AsyncMongoClient):
    async def ping() -> None:
        await client.admin.command("ping")

    return ping

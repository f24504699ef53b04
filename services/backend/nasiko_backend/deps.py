"""Typed dependencies, so a route's signature shows what it needs."""

from typing import Annotated

from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from .config import BackendSettings


def _settings(request: Request) -> BackendSettings:
    return request.app.state.settings


def _redis(request: Request) -> Redis:
    return request.app.state.redis


def _db(request: Request) -> AsyncDatabase:
    return request.app.state.mongo[request.app.state.settings.mongo_db]


SettingsDep = Annotated[BackendSettings, Depends(_settings)]
RedisDep = Annotated[Redis, Depends(_redis)]
DbDep = Annotated[AsyncDatabase, Depends(_db)]

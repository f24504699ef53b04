"""Settings every service reads from its environment.

    class Settings(ServiceSettings):
        registry_url: str = "http://kong-service-registry:8080"

    settings = Settings()
    settings.mongo_url  # "mongodb://mongodb:27017" (credentials only when set)
"""

from urllib.parse import quote_plus

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=False)

    nasiko_env: str = "development"
    log_level: str = "info"

    mongo_host: str = "mongodb"
    mongo_port: int = 27017
    mongo_db: str = "nasiko"
    # Optional: the offline MongoDB stand-in speaks no authentication.
    mongo_user: str = ""
    mongo_password: str = ""

    redis_url: str = "redis://redis:6379/0"

    @property
    def mongo_url(self) -> str:
        auth = ""
        if self.mongo_user:
            auth = f"{quote_plus(self.mongo_user)}:{quote_plus(self.mongo_password)}@"
        return f"mongodb://{auth}{self.mongo_host}:{self.mongo_port}/?authSource=admin"

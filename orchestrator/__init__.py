"""The orchestration worker: Redis stream consumer, agent builder and runner."""

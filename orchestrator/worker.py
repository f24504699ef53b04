"""Wiring: settings -> Redis, Docker engine, Deployer, StreamConsumer.

Entry points other code calls::

    run_worker(settings)                       what `python -m orchestrator` runs;
                                               returns on SIGTERM/SIGINT
    deploy_once(settings, name, path)          one deployment without a stream
        -> DeployReport                        (benchmarks, tests, debugging)
"""

import logging
import signal
import threading
import uuid

import docker
import redis

from .config import WorkerSettings
from .consumer import ConsumerConfig, StreamConsumer
from .deploy import Deployer, DeployReport
from .reconcile import reconcile_statuses

log = logging.getLogger(__name__)


def redis_client(settings: WorkerSettings) -> redis.Redis:
    # The socket timeout must outlast the blocking XREADGROUP, or every quiet
    # period would surface as a timeout error.
    return redis.Redis.from_url(
        settings.REDIS_URL,
        decode_responses=True,
        # A field that is not UTF-8 must not crash the worker on every read:
        # it decodes with U+FFFD, fails validation and goes to the dead letters.
        encoding_errors="replace",
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=5,
        health_check_interval=30,
    )


def docker_client() -> docker.DockerClient:
    # "auto": the engine here speaks API 1.41; never pin a newer version.
    client = docker.from_env(version="auto", timeout=120)
    # The engine is a local socket: proxy variables never apply, and looking
    # them up on every call costs more than a cached redeploy's other work.
    client.api.trust_env = False
    return client


def make_consumer(settings: WorkerSettings, client: redis.Redis, deployer: Deployer) -> StreamConsumer:
    config = ConsumerConfig(
        consumer=settings.WORKER_CONSUMER_NAME,
        max_deliveries=settings.WORKER_MAX_DELIVERIES,
        claim_idle_seconds=settings.WORKER_CLAIM_IDLE_SECONDS,
        block_ms=settings.WORKER_BLOCK_MS,
        concurrency=settings.WORKER_CONCURRENCY,
        shutdown_grace_seconds=settings.WORKER_SHUTDOWN_GRACE_SECONDS,
    )
    heartbeat_file = settings.WORKER_HEARTBEAT_FILE
    return StreamConsumer(
        client,
        deployer.handle,
        config,
        on_dead_letter=deployer.on_dead_letter,
        heartbeat=heartbeat_file.touch,
    )


def run_worker(settings: WorkerSettings, stop: threading.Event | None = None) -> None:
    """Consume deployment commands until SIGTERM/SIGINT (or `stop`) arrives."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    engine = _wait_for_engine(stop)
    if engine is None:
        return
    client = redis_client(settings)
    deployer = Deployer(settings, client, engine)
    _square_statuses_with_engine(client, engine, deployer)
    consumer = make_consumer(settings, client, deployer)
    log.info(
        "worker %s consuming %s (group %s), concurrency %d, network %s",
        consumer.config.consumer,
        consumer.config.stream,
        consumer.config.group,
        settings.WORKER_CONCURRENCY,
        settings.DOCKER_NETWORK,
    )
    try:
        consumer.run(stop)
    finally:
        deployer.close()
        engine.close()
        client.close()
    log.info("worker stopped")


def _square_statuses_with_engine(client, engine, deployer: Deployer) -> None:
    # Best effort: a worker that cannot check old records must still deploy.
    try:
        reconcile_statuses(client, engine, deployer.callback)
    except (redis.RedisError, docker.errors.DockerException) as exc:
        log.warning("could not check recorded agents against the engine (%s); going on", exc)


def _wait_for_engine(stop: threading.Event) -> docker.DockerClient | None:
    """Connect to the Docker engine, retrying with a clear message until it answers."""
    delay = 1.0
    while not stop.is_set():
        try:
            return docker_client()
        except docker.errors.DockerException as exc:
            log.error(
                "cannot reach the Docker engine (%s): mount the engine socket into the worker "
                "(/var/run/docker.sock) or set DOCKER_HOST; retrying in %.0fs",
                exc,
                delay,
            )
            stop.wait(delay)
            delay = min(delay * 2, 30.0)
    return None


def deploy_once(
    settings: WorkerSettings, agent_name: str, agent_path: str, upload_id: str | None = None
) -> DeployReport:
    """Deploy one agent folder synchronously and return what happened, with timings."""
    engine = docker_client()
    client = redis_client(settings)
    deployer = Deployer(settings, client, engine)
    _square_statuses_with_engine(client, engine, deployer)
    try:
        return deployer.deploy(agent_name, agent_path, upload_id or uuid.uuid4().hex)
    finally:
        deployer.close()
        engine.close()
        client.close()

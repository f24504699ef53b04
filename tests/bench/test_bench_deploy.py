"""Deployment speed through the real stream, worker process and engine (`--bench`).

Targets (issue 3):
    cached redeploy to ready       <= 2 s and <= 1/20 of the cold deploy of the same agent
    source-only change (build)     <= 0.25 x the cold build
    10 concurrent cached deploys   <= 3 x one cached deploy

Times are wall-clock from XADD of the command to the deployment's result
event (read with a blocking XREAD, so polling adds nothing). Build times are
the worker's own measurement of the image step. Every figure and ratio is
printed (run with -s to see them).
"""

import os
import statistics
import time

import pytest
import redis

from orchestrator.status import events_key
from tests.orchestrator.commands import send_deploy

# The fixtures (engine, agent_network, uploads, make_agent, worker_settings,
# start_worker) live with the other worker test helpers.
pytest_plugins = ["tests.orchestrator.agents"]

pytestmark = pytest.mark.bench

CACHED_RUNS = 5


@pytest.fixture
def client(worker_settings):
    connection = redis.Redis.from_url(worker_settings.REDIS_URL, decode_responses=True)
    yield connection
    connection.close()


def await_results(client, pending: dict[str, str], timeout: float = 300) -> dict[str, dict[str, str]]:
    """Block until each agent in {agent: upload_id} has its result event; return them by agent."""
    cursors = {events_key(name): "$" for name in pending}
    # Results that landed before we started reading count too.
    results = {}
    for name, upload_id in pending.items():
        for entry_id, fields in client.xrange(events_key(name)):
            cursors[events_key(name)] = entry_id
            if fields.get("upload_id") == upload_id and fields["kind"] == "result":
                results[name] = fields
    deadline = time.monotonic() + timeout
    while len(results) < len(pending):
        if time.monotonic() > deadline:
            raise AssertionError(f"no result within {timeout}s for {set(pending) - set(results)}")
        for key, entries in client.xread({k: v for k, v in cursors.items()}, block=1000) or []:
            for entry_id, fields in entries:
                cursors[key] = entry_id
                name = key.removeprefix("agent:events:")
                if fields.get("upload_id") == pending[name] and fields["kind"] == "result":
                    results[name] = fields
    return results


def timed_deploys(client, batch) -> tuple[float, dict[str, dict[str, str]]]:
    """XADD every (agent, folder) at once; seconds until all results are in."""
    started = time.perf_counter()
    pending = {agent.name: send_deploy(client, agent, folder) for agent, folder in batch}
    results = await_results(client, pending)
    elapsed = time.perf_counter() - started
    assert all(r["status"] == "running" for r in results.values()), [r["message"] for r in results.values()]
    return elapsed, results


def build_seconds(client, agent_name: str) -> float:
    """The image step of the agent's latest deployment, from the worker's stage events."""
    events = [fields for _, fields in client.xrange(events_key(agent_name))]
    last_upload = events[-1]["upload_id"]
    stamps = {e["stage"]: e["timestamp"] for e in events if e["upload_id"] == last_upload and e["kind"] != "log"}
    return _seconds_between(stamps["building"], stamps["built"])


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def report(label: str, value: float, unit: str = "s") -> None:
    print(f"  {label:<52} {value:8.3f} {unit}")


def test_bench_cached_redeploy_and_source_change(make_agent, start_worker, client):
    agent = make_agent(cold=True)
    start_worker()

    cold, _ = timed_deploys(client, [(agent, agent.upload())])
    cold_build = build_seconds(client, agent.name)
    cached = [timed_deploys(client, [(agent, agent.upload())])[0] for _ in range(CACHED_RUNS)]
    cached_median = statistics.median(cached)
    changed, _ = timed_deploys(client, [(agent, agent.upload(greeting="a source-only change"))])
    changed_build = build_seconds(client, agent.name)

    print("\ndeploy benchmark (tiny agent, real engine)")
    report("cold deploy (XADD -> ready)", cold)
    report("cold build", cold_build)
    report(f"cached redeploy, median of {CACHED_RUNS}", cached_median)
    report("cached redeploy / cold deploy", cached_median / cold, "x")
    report("source-only change deploy", changed)
    report("source-only change build", changed_build)
    report("source-only build / cold build", changed_build / cold_build, "x")
    assert cached_median <= 2.0
    assert cached_median <= cold / 20
    assert changed_build <= 0.25 * cold_build


def test_bench_ten_concurrent_cached_deploys(make_agent, start_worker, client, worker_settings):
    agents = [make_agent() for _ in range(10)]
    start_worker(worker_settings.model_copy(update={"WORKER_CONCURRENCY": 10}))
    timed_deploys(client, [(agent, agent.upload()) for agent in agents])  # warm: images and containers exist

    one = statistics.median(timed_deploys(client, [(agents[0], agents[0].upload())])[0] for _ in range(3))
    ten = statistics.median(timed_deploys(client, [(a, a.upload()) for a in agents])[0] for _ in range(3))

    print("\nconcurrent deploy benchmark (10 cached agents, WORKER_CONCURRENCY=10)")
    report("one cached deploy, median of 3", one)
    report("ten concurrent cached deploys, median of 3", ten)
    report("ten / one", ten / one, "x")
    # A cached deploy is ~10-15 ms of CPU spread over the worker (Python, one
    # GIL), the engine (inspects), Redis and the agent (probe). Ten at once are
    # CPU-bound: on the 2-CPU machines here this measured 7-8 x with one worker
    # process and 6.4 x with two, so the 3 x target needs more cores.
    assert ten <= 3 * one, f"10 concurrent = {ten / one:.1f} x one on {os.cpu_count()} CPUs"

"""Consumer semantics against a real Redis server."""

import threading
import time
from collections import Counter

import pytest
import redis

from orchestrator.consumer import (
    DEAD_LETTER_STREAM,
    GROUP,
    STREAM,
    ConsumerConfig,
    PoisonMessage,
    StreamConsumer,
)


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def client(redis_url):
    connection = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5)
    yield connection
    connection.close()


class Running:
    """A StreamConsumer on a background thread, stopped at teardown."""

    def __init__(self, client, handler, **config):
        defaults = {"consumer": "worker-b", "claim_idle_seconds": 0.2, "block_ms": 50, "max_deliveries": 3}
        self.consumer = StreamConsumer(client, handler, ConsumerConfig(**{**defaults, **config}))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.consumer.run, args=(self.stop,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.consumer

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def pending_count(client):
    return client.xpending(STREAM, GROUP)["pending"]


def test_entry_is_acknowledged_only_after_the_handler_returns(client):
    release = threading.Event()
    started = threading.Event()

    def handler(entry_id, fields):
        started.set()
        release.wait(10)

    with Running(client, handler):
        client.xadd(STREAM, {"agent_name": "echo"})
        assert started.wait(5)
        time.sleep(0.3)
        assert pending_count(client) == 1
        release.set()
        wait_for(lambda: pending_count(client) == 0, what="ack")


def test_failing_entry_stays_pending_then_goes_to_dead_letter_after_max_deliveries(client):
    calls = []

    def handler(entry_id, fields):
        calls.append(fields["agent_name"])
        raise RuntimeError("engine said no")

    with Running(client, handler, max_deliveries=3):
        entry_id = client.xadd(STREAM, {"agent_name": "echo", "upload_id": "u1"})
        wait_for(lambda: client.xlen(DEAD_LETTER_STREAM) == 1, what="dead letter")
        assert calls == ["echo"] * 3
        assert pending_count(client) == 0
    [(_, dead)] = client.xrange(DEAD_LETTER_STREAM)
    assert dead["agent_name"] == "echo" and dead["upload_id"] == "u1"
    assert dead["error"] == "RuntimeError: engine said no"
    assert dead["deliveries"] == "3" and dead["original_id"] == entry_id and dead["failed_at"]


def test_failing_entry_is_not_acknowledged_before_the_last_delivery(client):
    calls = []

    def handler(entry_id, fields):
        calls.append(1)
        raise RuntimeError("boom")

    with Running(client, handler, max_deliveries=5, claim_idle_seconds=30):
        client.xadd(STREAM, {"agent_name": "echo"})
        wait_for(lambda: calls, what="first delivery")
        time.sleep(0.3)
        assert pending_count(client) == 1
        assert client.xlen(DEAD_LETTER_STREAM) == 0


def test_poison_message_goes_to_dead_letter_at_once_and_the_worker_goes_on(client):
    handled = []

    def handler(entry_id, fields):
        if "agent_name" not in fields:
            raise PoisonMessage("no agent_name")
        handled.append(fields["agent_name"])

    with Running(client, handler, max_deliveries=3):
        client.xadd(STREAM, {"garbage": "x"})
        client.xadd(STREAM, {"agent_name": "echo"})
        wait_for(lambda: handled == ["echo"] and client.xlen(DEAD_LETTER_STREAM) == 1, what="both outcomes")
    [(_, dead)] = client.xrange(DEAD_LETTER_STREAM)
    assert dead["deliveries"] == "1" and "no agent_name" in dead["error"]
    assert pending_count(client) == 0


def test_stream_deleted_while_blocking_recreates_the_group_and_processes_the_next_message_once(client, caplog):
    handled = Counter()
    with Running(client, lambda entry_id, fields: handled.update([fields["n"]]), block_ms=1000) as consumer:
        wait_for(lambda: client.exists(STREAM), what="group creation")
        time.sleep(0.2)  # the consumer now blocks in XREADGROUP
        client.delete(STREAM)
        time.sleep(0.2)
        client.xadd(STREAM, {"agent_name": "echo", "n": "after-delete"})
        wait_for(lambda: handled["after-delete"] == 1, what="message after the deletion")
        wait_for(lambda: consumer.redis.xpending(STREAM, GROUP)["pending"] == 0, what="ack")
        time.sleep(0.5)
    assert handled == Counter({"after-delete": 1})
    assert any("recreating the group" in record.getMessage() for record in caplog.records)


def test_dead_consumer_entries_are_reclaimed_deleted_ones_dropped_and_nothing_stays_pending(client):
    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    first = client.xadd(STREAM, {"agent_name": "one", "n": "1"})
    client.xadd(STREAM, {"agent_name": "two", "n": "2"})
    client.xadd(STREAM, {"agent_name": "three", "n": "3"})
    # Consumer A reads two entries and dies without acking; one of them is then deleted.
    reply = client.xreadgroup(GROUP, "worker-a", {STREAM: ">"}, count=2)
    assert len(reply[0][1]) == 2
    client.xdel(STREAM, first)
    time.sleep(0.3)  # longer than claim_idle_seconds: A counts as dead

    handled = Counter()
    with Running(client, lambda entry_id, fields: handled.update([fields["n"]]), consumer="worker-b"):
        wait_for(lambda: handled == Counter({"2": 1, "3": 1}), what="entries 2 and 3")
        wait_for(lambda: pending_count(client) == 0, what="empty pending list")
        time.sleep(0.5)  # several reclaim passes later, still exactly once
    assert handled == Counter({"2": 1, "3": 1})
    assert pending_count(client) == 0


def test_own_pending_entries_are_read_again_first_at_start(client):
    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    client.xadd(STREAM, {"agent_name": "echo", "n": "1"})
    client.xreadgroup(GROUP, "worker-b", {STREAM: ">"}, count=1)  # then "crashed"

    handled = []
    # Idle time far above the test duration: only the own-pending path can find it.
    with Running(
        client, lambda entry_id, fields: handled.append(fields["n"]), consumer="worker-b", claim_idle_seconds=300
    ):
        wait_for(lambda: handled == ["1"], what="own pending entry")
        wait_for(lambda: pending_count(client) == 0, what="ack")


def test_entry_in_progress_is_not_reclaimed_by_another_consumer(client):
    release = threading.Event()
    calls = []

    def handler(entry_id, fields):
        calls.append(fields["n"])
        release.wait(10)

    with Running(client, handler, consumer="worker-a", claim_idle_seconds=0.3):
        client.xadd(STREAM, {"agent_name": "echo", "n": "1"})
        wait_for(lambda: calls, what="start of the job")
        other = StreamConsumer(
            client, lambda entry_id, fields: None, ConsumerConfig(consumer="worker-b", claim_idle_seconds=0.3)
        )
        for _ in range(8):  # 1.6 s, several times the idle limit
            assert other.reclaim_idle() == []
            time.sleep(0.2)
        release.set()
        wait_for(lambda: pending_count(client) == 0, what="ack")
    assert calls == ["1"]


def test_entries_of_one_agent_run_one_after_the_other_while_other_agents_run_alongside(client):
    active: Counter = Counter()
    overlaps = []
    lock = threading.Lock()

    def handler(entry_id, fields):
        with lock:
            active[fields["agent_name"]] += 1
            overlaps.append(dict(active))
        time.sleep(0.5)
        with lock:
            active[fields["agent_name"]] -= 1

    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for agent in ("same", "same", "other"):
        client.xadd(STREAM, {"agent_name": agent})
    with Running(client, handler, concurrency=3):
        wait_for(lambda: pending_count(client) == 0 and len(overlaps) == 3, what="three jobs")
    assert max(snapshot.get("same", 0) for snapshot in overlaps) == 1
    assert any(snapshot.get("same") == 1 and snapshot.get("other") == 1 for snapshot in overlaps)


def test_entries_of_one_agent_run_in_stream_order(client):
    order = []
    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    sent = [client.xadd(STREAM, {"agent_name": "same", "n": str(n)}) for n in range(8)]
    with Running(client, lambda entry_id, fields: order.append(entry_id) or time.sleep(0.02), concurrency=8):
        wait_for(lambda: len(order) == 8 and pending_count(client) == 0, what="eight jobs")
    assert order == sent


def test_existing_group_is_fine_but_other_creation_errors_are_raised(client):
    consumer = StreamConsumer(client, lambda entry_id, fields: None, ConsumerConfig(consumer="x"))
    consumer.ensure_group()
    consumer.ensure_group()  # BUSYGROUP: tolerated
    client.delete(STREAM)
    client.set(STREAM, "not a stream")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        consumer.ensure_group()


def test_heartbeat_is_touched_from_the_main_loop(client, tmp_path):
    beat = tmp_path / "heartbeat"
    consumer = StreamConsumer(
        client, lambda entry_id, fields: None, ConsumerConfig(consumer="x", block_ms=50), heartbeat=beat.touch
    )
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(beat.exists, what="first heartbeat")
        first = beat.stat().st_mtime_ns
        wait_for(lambda: beat.stat().st_mtime_ns > first, what="a later heartbeat")
    finally:
        stop.set()
        thread.join(5)


def test_a_field_that_is_not_utf8_is_dead_lettered_and_the_worker_goes_on(redis_url, client):
    """The worker's own client decodes with replacement, so the entry reaches the handler."""
    from orchestrator.config import WorkerSettings
    from orchestrator.worker import redis_client

    worker_client = redis_client(WorkerSettings(REDIS_URL=redis_url))
    handled = []

    def handler(entry_id, fields):
        if not fields["agent_name"].isascii():
            raise PoisonMessage(f"agent_name {fields['agent_name']!r} is not a valid name")
        handled.append(fields["agent_name"])

    with Running(worker_client, handler):
        redis.Redis.from_url(redis_url).xadd(STREAM, {b"command": b"deploy_agent", b"agent_name": b"\xff\xfe"})
        client.xadd(STREAM, {"command": "deploy_agent", "agent_name": "echo"})
        wait_for(lambda: handled == ["echo"] and client.xlen(DEAD_LETTER_STREAM) == 1, what="both outcomes")
    assert pending_count(client) == 0


def test_a_command_key_that_is_not_a_stream_keeps_the_worker_up_until_it_is_fixed(client, caplog):
    handled = []
    client.set(STREAM, "not a stream")
    with Running(client, lambda entry_id, fields: handled.append(fields["agent_name"])) as consumer:
        wait_for(lambda: "WRONGTYPE" in caplog.text, what="the error to be logged")
        client.delete(STREAM)
        consumer.ensure_group()
        client.xadd(STREAM, {"agent_name": "echo"})
        wait_for(lambda: handled == ["echo"], timeout=15, what="the next message after the fix")


def test_reclaimed_entries_waiting_for_a_free_slot_are_kept_alive_and_run_once(client):
    """Entries taken over from a dead worker but still waiting for a slot are this worker's: nobody reclaims them."""
    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for agent in ("first", "second"):
        client.xadd(STREAM, {"agent_name": agent})
    client.xreadgroup(GROUP, "worker-dead", {STREAM: ">"})  # delivered to a worker that then died
    time.sleep(0.4)  # idle past the claim limit
    release = threading.Event()
    calls = []

    def handler(entry_id, fields):
        calls.append(fields["agent_name"])
        release.wait(10)

    with Running(client, handler, consumer="worker-a", claim_idle_seconds=0.3, concurrency=1):
        wait_for(lambda: calls == ["first"], what="the first reclaimed job")
        other = StreamConsumer(
            client, lambda entry_id, fields: None, ConsumerConfig(consumer="worker-b", claim_idle_seconds=0.3)
        )
        for _ in range(8):  # 1.6 s, several times the idle limit, while "second" waits for the slot
            assert other.reclaim_idle() == []
            time.sleep(0.2)
        release.set()
        wait_for(lambda: pending_count(client) == 0, what="both acks")
    assert calls == ["first", "second"]

"""One worker on a three-node cluster: the leader of an ``orders`` partition, then the leader of a read-model
changelog partition, killed with kill -9 while order events flow.

Each event is sent with acks=all through the CLI's producer (``streams produce``'s ``OrderIngest``) at a steady rate
from a thread, held after the first 80 until a node is killed; the node is started again once the worker has moved
on. Then: every event acknowledged (none lost to the failover), each counted exactly once in the read models (every
order readable, the customers' counts and the stats moved by exactly what was sent), no dead letter, and the same
worker process all along (it resumed by itself). The time to resume runs from the kill until the group's committed
offset on the partition passes the first event sent to it after the kill: that event, and everything it wrote (its
changelog records included), durable. It is printed (``pytest -s``).

The worker's topics get three copies, two in sync required (``streams.replication``): with one node down every
write still has its two copies, once the partitions it led have new leaders (the controller fences a node that
stops heartbeating after ``broker.session.timeout.ms``, 9 s by default).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigEntry, ConfigResource, NewTopic, ResourceType

from streams.devstack.cluster import KafkaCluster
from streams.errors import TransientError
from streams.lag import LagSampler
from streams.position import Position
from streams.registry.threaded import ThreadedRegistry
from streams.scan import scan
from streams.settings import Settings
from tests.integration.devstack.stack import alive
from tests.integration.harness import STARTED, Worker, by_status, caught_up, wait_until
from tests.integration.orders.builders import body, ingest_for, placed

pytestmark = pytest.mark.integration

PARTITIONS = 4
EVENTS = 300  # per kill: 7.5 s of events at RATE, the kill 2 s in
RATE = 40.0  # events/s
KILL_AFTER = 80  # events sent before the kill (the flow waits at its gate until the node is killed)
CUSTOMERS = 5


@dataclass
class Stack:
    cluster: KafkaCluster
    env: dict[str, str]
    worker: Worker
    admin: AdminClient

    @property
    def group(self) -> str:
        return self.env["STREAMS_APP_ID"]

    @property
    def orders(self) -> str:
        return f"{self.env['STREAMS_TOPIC_PREFIX']}orders"

    def ours(self) -> list[str]:
        """The worker's topics, its own and Faust's (named by its prefix or its app id)."""
        marks = (self.env["STREAMS_TOPIC_PREFIX"], self.group)
        return sorted(t for t in self.admin.list_topics(timeout=10).topics if t.startswith(marks))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Three nodes (small heaps: ``KafkaCluster``), the registry and one worker, for the whole module."""
    settings = Settings()
    root = tmp_path_factory.mktemp("failover")
    started = time.monotonic()
    cluster = KafkaCluster(data_dir=root / "kafka", cache_dir=settings.kafka_cache_dir, brokers=3,
                           kafka_home=settings.kafka_home).start()
    registry: ThreadedRegistry | None = None
    worker: Worker | None = None
    try:
        registry = ThreadedRegistry(cluster.connection, "_schemas").start()
        tag = uuid.uuid4().hex[:8]
        env = {"STREAMS_BROKER": cluster.url, "STREAMS_SCHEMA_REGISTRY_URL": registry.url,
               "STREAMS_TOPIC_PREFIX": f"t{tag}.", "STREAMS_APP_ID": f"orders-{tag}",
               "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS), "STREAMS_LOG_LEVEL": "info",
               "STREAMS_SAGA": "false"}  # the flow's read models come from its events only
        cluster_up = time.monotonic()
        worker = Worker(env=env, data_dir=root / "w").start()
        stack = Stack(cluster, env, worker, AdminClient({"bootstrap.servers": cluster.bootstrap_servers}))
        # One order through everything first, so that each schema the worker writes is registered (and cached)
        # before any kill: what the two first tests measure is the worker's failover, not the registry's.
        Flow(env, 1, RATE).start().join()
        wait_until(lambda: caught_up(stack.env) and by_status(worker).get("placed") == 1, timeout=60,
                   what="the first order applied")
        print(f"\n3 nodes up in {cluster_up - started:.1f}s, the registry, the worker and a first order in "
              f"{time.monotonic() - cluster_up:.1f}s more")
        yield stack
    finally:
        if worker is not None:
            worker.stop()
        if registry is not None:
            registry.stop()
        pids = [node.pid for node in cluster.nodes]
        cluster.stop(timeout=5)  # the last node has no quorum left for a controlled shutdown: killed after 5 s
        assert [pid for pid in pids if pid is not None and alive(pid)] == []  # no node left behind


@pytest.fixture
def one_worker(stack: Stack, _forget_started_workers: None) -> Worker:
    """The module's worker, its log tail shown if the test fails (conftest forgets workers between tests)."""
    STARTED.append(stack.worker)
    return stack.worker


@dataclass
class Flow:
    """``count`` OrderPlaced events at ``rate`` per second from a thread, acks=all, without waiting for each
    acknowledgement (so the rate holds while a partition has no leader): each kept with the future of its
    position.  With ``hold_after``, the thread stops after that many events until the test opens ``gate`` (a
    node killed meanwhile): every event after them is sent after the kill, however slow the machine.  The rate
    only spreads the events over the failover; nothing is asserted about time."""

    env: dict[str, str]
    count: int
    rate: float
    hold_after: int | None = None
    gate: threading.Event = field(default_factory=threading.Event)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    sent: list[tuple[str, Future[Position]]] = field(default_factory=list)
    failure: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, name="flow", daemon=True)

    def order_id(self, i: int) -> str:
        return f"{self.tag}-{i}"

    def customer(self, i: int) -> str:
        return f"c-{self.tag}-{i % CUSTOMERS}"

    def _run(self) -> None:
        try:
            with ingest_for(self.env) as ingest:  # closing it waits for every acknowledgement (or its failure)
                started = time.monotonic()
                for i in range(self.count):
                    if i == self.hold_after:
                        assert self.gate.wait(timeout=120), "the test never opened the gate"
                        started = time.monotonic() - i / self.rate  # the rate goes on from here
                    prepared = ingest.prepare(body("OrderPlaced", placed(self.order_id(i), self.customer(i))))
                    self.sent.append((self.order_id(i), ingest.enqueue(prepared)))
                    time.sleep(max(0.0, started + (i + 1) / self.rate - time.monotonic()))
        except BaseException as exc:  # said by join()
            self.failure.append(exc)

    def start(self) -> Flow:
        self.thread.start()
        return self

    def join(self) -> list[Position]:
        """Every event's position once all were acknowledged; fails on any that was not."""
        self.thread.join(timeout=self.count / self.rate + 60)
        assert not self.thread.is_alive(), "the producer did not finish"
        assert not self.failure, self.failure
        return [future.result(timeout=0) for _, future in self.sent]

    def first_after_gate(self, partition: int) -> str:
        """The order id of the first event past the gate bound to ``partition`` (Kafka's murmur2 of the key, as
        the producer partitions); "" while none is sent yet."""
        partitioner = DefaultPartitioner()
        for order_id, _ in list(self.sent)[self.hold_after or 0:]:
            if partitioner(order_id.encode(), list(range(PARTITIONS)), list(range(PARTITIONS))) == partition:
                return order_id
        return ""

    def position(self, order_id: str) -> Position:
        [future] = [future for sent_id, future in self.sent if sent_id == order_id]
        return future.result(timeout=60)


def committed(stack: Stack, topic: str, partition: int) -> int:
    """The group's committed offset on ``topic``'s ``partition`` now (-1: none, or the cluster did not answer)."""
    sampler = LagSampler(stack.cluster.connection)
    try:
        [group] = sampler.sample([stack.group], seconds=False)
    except TransientError:  # a coordinator moving: not known now
        return -1
    finally:
        sampler.close()
    return next((p.committed or -1 for p in group.partitions if (p.topic, p.partition) == (topic, partition)), -1)


def fully_replicated(stack: Stack) -> bool:
    """Every partition of the worker's topics has all its copies in sync (a restarted node caught up)."""
    metadata = stack.admin.list_topics(timeout=10)
    return all(len(p.isrs) == len(p.replicas) == 3
               for name in stack.ours() for p in metadata.topics[name].partitions.values())


def changelog(stack: Stack) -> str:
    """The orders read model's changelog: written for every event, in the event's partition."""
    [name] = [t for t in stack.ours() if t.endswith(f"{stack.group}-orders-changelog")]
    return name


def kill_leader_while_events_flow(stack: Stack, topic: str, partition: int) -> None:
    """Kill -9 the node leading ``topic``'s ``partition`` while a Flow runs, time the resume of ``orders``'
    same partition, restart the node; then check every event counted once and no dead letter."""
    worker = stack.worker
    assert worker.process is not None
    pid = worker.process.pid
    wait_until(lambda: caught_up(stack.env) and by_status(worker), timeout=60, what="the worker idle")
    before = by_status(worker).get("placed", 0)
    flow = Flow(stack.env, EVENTS, RATE, hold_after=KILL_AFTER).start()
    wait_until(lambda: len(flow.sent) >= KILL_AFTER, timeout=30, interval=0.05,
               what=f"{KILL_AFTER} events sent, the flow held at the gate")
    leader = stack.cluster.leader(topic, partition)
    assert leader in (1, 2, 3), leader
    stack.cluster.kill_node(leader)
    killed = time.monotonic()
    flow.gate.set()  # the rest of the events flow from now: all after the kill
    try:
        next_id = wait_until(lambda: flow.first_after_gate(partition), timeout=30, interval=0.05,
                             what=f"an event sent to partition {partition} after the kill")
        position = flow.position(next_id)  # acknowledged once the partition has a leader again
        assert position.partition == partition, position
        acknowledged = time.monotonic() - killed
        wait_until(lambda: committed(stack, stack.orders, partition) > position.offset, timeout=90, interval=0.1,
                   what=f"{next_id} (offset {position.offset} of {stack.orders}:{partition}) committed by the worker")
        resumed = time.monotonic() - killed
        print(f"\nkill -9 of node {leader}, leader of {topic}:{partition}: the next event to "
              f"{stack.orders}:{partition} acknowledged after {acknowledged:.1f}s, applied and committed after "
              f"{resumed:.1f}s (time to resume)")
        assert stack.cluster.leader(topic, partition) not in (leader, -1)
        positions = flow.join()  # every event acknowledged: none lost to the failover
    finally:  # the next test starts with three nodes, whatever happened here
        stack.cluster.restart_node(leader)
    wait_until(lambda: fully_replicated(stack), timeout=60, what=f"node {leader} back in sync on every partition")
    wait_until(lambda: caught_up(stack.env), timeout=90, what="the worker caught up")
    print(f"{len(positions)} events acknowledged; node {leader} back in sync {time.monotonic() - killed:.1f}s "
          f"after the kill")

    # every event counted exactly once, by the same worker process all along
    assert worker.process.pid == pid
    assert worker.process.exited() is None
    assert by_status(worker).get("placed", 0) - before == EVENTS
    for i in range(EVENTS):
        response = worker.get(f"/orders/{flow.order_id(i)}")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "placed"
        assert len(response.json()["history"]) == 1, response.json()
    for c in range(CUSTOMERS):
        view = worker.get(f"/customers/{flow.customer(c)}").json()
        ids = {flow.order_id(i) for i in range(c, EVENTS, CUSTOMERS)}
        assert (view["order_count"], set(view["order_ids"])) == (len(ids), ids), view
    dead = {name: sum(1 for _ in scan(stack.cluster.connection, name, missing_ok=True))
            for name in stack.ours() if name.endswith(".dlq")}
    assert dead, stack.ours()
    assert set(dead.values()) == {0}, dead


def described(admin: AdminClient, topic: str) -> dict[str, ConfigEntry] | None:
    """``topic``'s configs, or None while the node the admin client asks has not yet learnt of the topic (each node
    takes the new topic from the controller in its own time: UNKNOWN_TOPIC_OR_PART was seen once in CI)."""
    [future] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
    try:
        configs: dict[str, ConfigEntry] = future.result(timeout=30)
    except KafkaException as error:
        if error.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise
        return None
    return configs


def test_the_cluster_keeps_its_own_topics_in_three_copies_two_in_sync(stack: Stack) -> None:
    """Kafka's own topics (the group's offsets) have as many copies as the app's, and topics created without a
    setting get min.insync.replicas 2: no write is acknowledged on one copy (``internal_topic_config``)."""
    offsets = stack.admin.list_topics("__consumer_offsets", timeout=10).topics["__consumer_offsets"]
    assert {len(partition.replicas) for partition in offsets.partitions.values()} == {3}
    stack.admin.create_topics([NewTopic("defaults", 1)])["defaults"].result(timeout=30)
    config = wait_until(lambda: described(stack.admin, "defaults"), what="the new topic's configs on the node asked")
    assert config["min.insync.replicas"].value == "2"
    assert len(stack.admin.list_topics("defaults", timeout=10).topics["defaults"].partitions[0].replicas) == 3


def test_the_leader_of_an_orders_partition_killed_mid_stream(stack: Stack, one_worker: Worker) -> None:
    kill_leader_while_events_flow(stack, stack.orders, 0)


def test_the_leader_of_a_changelog_partition_killed_mid_stream(stack: Stack, one_worker: Worker) -> None:
    kill_leader_while_events_flow(stack, changelog(stack), 1)



def test_the_registry_registers_a_schema_while_the_leader_of_its_topic_is_down(stack: Stack) -> None:
    """The registry's end-offset client asked the dead leader until it came back (seen: 503s for 93 s and more);
    it now looks the new leader up."""
    leader = stack.cluster.leader("_schemas", 0)
    assert leader in (1, 2, 3), leader
    stack.cluster.kill_node(leader)
    killed = time.monotonic()
    subject = f"failover-{uuid.uuid4().hex[:6]}-value"
    schema = {"type": "record", "name": "Failover", "fields": [{"name": "id", "type": "string"}]}
    url = f"{stack.env['STREAMS_SCHEMA_REGISTRY_URL']}/subjects/{subject}/versions"

    answers: list[str] = []

    def registered() -> bool:
        response = httpx.post(url, json={"schema": json.dumps(schema)}, timeout=40)
        assert response.status_code in (200, 503), response.text  # 503: the new leader not elected yet
        answers.append(response.text)
        return response.status_code == 200

    try:
        wait_until(registered, timeout=90, interval=0.5,
                   what=lambda: f"{subject} registered with node {leader} down; answers: {answers[-3:]}")
        print(f"\nkill -9 of node {leader}, leader of _schemas:0: a new schema registered after "
              f"{time.monotonic() - killed:.1f}s")
    finally:
        stack.cluster.restart_node(leader)
    wait_until(lambda: fully_replicated(stack), timeout=60, what=f"node {leader} back in sync on every partition")

"""The faust-streaming, mode and aiokafka this package was written against, and every function of theirs it copies,
overrides or relies on the inner workings of, with a hash of its source.

``tests/unit/recordpath/faust_internals/test_pins.py`` compares them with what is
installed: an upgrade fails that one test, naming each function to re-read
against the module here that depends on it.  After re-checking, update the
version and the hashes (``python -m streams.recordpath.faust_internals.pins``
prints the current ones).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from importlib.metadata import version

__all__ = ["FUNCTIONS", "VERSIONS", "current_hash"]

VERSIONS = {"faust-streaming": "0.15.3", "mode-streaming": "0.7.1", "aiokafka": "0.14.0"}

FUNCTIONS: dict[str, tuple[str, str]] = {
    # name: (hash of its source, the module here that copies, overrides or relies on it)
    "faust.transport.consumer:Consumer._drain_messages": ("44a2500309e83c63", "drain (copied, two changes)"),
    "faust.transport.consumer:Consumer._add_gap": ("4df2573ded7c1c2c", "drain (called, also after read offset 0)"),
    "faust.transport.consumer:Consumer._new_offset": ("1d2c7ea89a7ad4f1", "acks (its missing check)"),
    "faust.tables.recovery:Recovery.on_recovery_completed": ("6ef567acf072e46d", "resume (the order of its steps)"),
    "faust.tables.recovery:Recovery._resume_streams": ("d986a6710c1aca98", "resume (the order of its steps)"),
    "faust.tables.recovery:Recovery._add": (
        "1584a197b11bf835", "recovery (asks persisted_offset first), restore (the None it leaves)"),
    "faust.tables.recovery:Recovery.on_rebalance": ("aa4d997a1795ceae", "recovery (actives and standbys)"),
    "faust.tables.base:Collection.persisted_offset": ("d473d3ab3fd6f036", "changelog (overridden)"),
    "faust.tables.base:Collection.apply_changelog_batch": ("b980a78d3ae9b1e8", "changelog (overridden)"),
    "faust.tables.base:Collection.partition_for_key": ("3b2291811b8dd791", "changelog (the event's partition)"),
    "faust.tables.table:Table.on_key_set": ("a370e35ca55c2c7e", "changelog (overridden)"),
    "faust.tables.table:Table.on_key_del": ("4f2900b2f9d24a08", "changelog (overridden)"),
    "mode.utils.collections:ManagedUserDict.__setitem__": ("f3bdf602abc08dd1", "changelog (overridden)"),
    "faust.stores.base:SerializedStore.__setitem__": ("6cadf304f59f254d", "changelog (its work done inline)"),
    "faust.stores.rocksdb:Store._set": ("4227e561e288d941", "changelog (called directly)"),
    "faust.stores.rocksdb:Store._get": ("7ae8dfd6d7754a59", "changelog (called directly)"),
    "faust.stores.rocksdb:Store._db_for_partition": ("cb7e67d5f9efc4bc", "recovery (empties a partition's store)"),
    "faust.stores.rocksdb:Store.apply_changelog_batch": ("ea3344d369fc4ab5", "changelog (what it persists)"),
    "faust.stores.rocksdb:Store.persisted_offset": ("6f2e502fb86043a1", "recovery"),
    "faust.stores.rocksdb:Store.set_persisted_offset": ("b4c811926678346e", "changelog, recovery"),
    "faust.tables.base:Collection._new_store_by_url": ("343a8125107d3f69", "changelog (overridden, its arguments)"),
    "faust.stores.rocksdb:Store.__init__": ("c7c0fa2989e8ab4a", "stores (rocksdb_options replaced after it)"),
    "faust.stores.rocksdb:RocksDBOptions.open": ("ff87e92d69e2f487", "stores (extended: write options set)"),
    "faust.stores.rocksdb:Store.stop": ("2e98db0eb7c7582b", "stores (the databases flushed before it drops them)"),
    "faust.app.base:App.on_init_dependencies": ("7621a70a9b01f93f", "app (the Monitor left out)"),
    "faust.app.base:App._new_transport": ("42db531312dd776f", "app (the lean drain loop's transport)"),
    "faust.app.base:App._on_partitions_assigned": ("de932b7927db85b3", "recovery (tables before the assigned signal)"),
    "faust.app.base:App._on_partitions_revoked": ("d5c895bbe57dc73a", "recovery (the revoked signal)"),
    "mode.services:Service.wait_first": ("feade6a31f8a6789", "drain (a waiting callback finishes under it)"),
    "faust.web.drivers.aiohttp:Web.__init__": ("52b00c1bd653c82d", "web (the runner it builds, replaced)"),
    "faust.web.drivers.aiohttp:Web.start_server": ("b0c4f10491828520", "web (starts the replaced runner)"),
    "faust.web.drivers.aiohttp:Web._new_transport_tcp": ("3f9463d869f309ec", "web (serves the replaced runner)"),
    "faust.transport.drivers.aiokafka:AIOKafkaConsumerThread._create_worker_consumer": (
        "c2701bfc3e6f6cad", "committed (its consumer set to read_committed)"),
    "faust.transport.drivers.aiokafka:Consumer._new_consumer_thread": ("0870ec53dea75083", "drain (overridden)"),
    "aiokafka.consumer.consumer:AIOKafkaConsumer.start": ("2f1ba70443327538", "committed (reads _isolation_level)"),
    "faust.transport.drivers.aiokafka:Producer._settings_extra": ("a4c7bc41b6382223", "producer (extended)"),
    "faust.transport.drivers.aiokafka:Producer._new_producer": (
        "e72355c3430ed02f", "producer (_settings_extra merged last)"),
    "faust.transport.consumer:Consumer.on_partitions_revoked": (
        "d04b7ae72c6fc206", "transactions (forgets the revoked acks: committed before)"),
    "faust.transport.consumer:Consumer.wait_empty": ("e4662fe24f094819", "transactions (called at a revocation)"),
    "faust.transport.consumer:Consumer.force_commit": ("cc094614d22c70fb", "transactions (replaced)"),
    "faust.transport.consumer:Consumer._commit_offsets": ("1a69799041188441", "transactions (its bookkeeping kept)"),
    "faust.transport.consumer:Consumer.ack": ("5fcf41cf45153475", "transactions (_acked, _acked_index trimmed)"),
    "aiokafka.consumer.group_coordinator:GroupCoordinator.__init__": (
        "9e729f077efc4f3a", "transactions (generation, member_id, _group_instance_id read)"),
    "faust.tables.recovery:Recovery.need_recovery": ("fd1dc345b5d5e121", "restore (extended)"),
    "faust.tables.recovery:Recovery._slurp_changelogs.fun": (
        "7825c7e50f766d5a", "restore (asks need_recovery on each record and timeout)"),
    "faust.tables.recovery:Recovery._seek_offsets": ("19598ca63d94d250", "restore (None and below -1 clamped)"),
    "faust.tables.recovery:Recovery._build_offsets": ("27eec86be06cb51f", "restore (earliest offset minus one)"),
    "faust.tables.manager:TableManager.recovery.fget": ("f0bf5de78b4c3d23", "restore (replaced)"),
    "aiokafka.consumer.subscription_state:TopicPartitionState.position.fget": (
        "816b6b289bd14f5c", "restore (read from the loop's thread)"),
    # aiokafka's GroupCoordinator._maybe_leave_group, as leave keeps it (the class attribute is replaced)
    "streams.recordpath.faust_internals.leave:_dynamic_leave": (
        "016cd88a16e6c4b5", "leave (replaced; still called, for a dynamic member)"),
    "faust.streams:Stream._py_aiter": ("3a48ee257a65435b", "take (its per-event steps the record path needs)"),
    "faust.streams:Stream._c_aiter": ("fa44582a5882e9df", "take (replaced for agents; its Cython twin the same)"),
    "faust.streams:current_event": ("3b821f1a78d86a58", "take (the context variable it reads, set)"),
    "faust.transport.consumer:Consumer.track_message": ("217d7f1399a4cd8e", "take (called)"),
    "faust.app.base:App.topic_route": ("854f2f75d47f6bbd", "streams.web.route and views.routed (replaced)"),
    "faust.app.router:Router._route_req": ("f8ae00957a7924ff", "streams.web.route.forward (copied, bounded)"),
    "faust.app.router:Router.external_topic_key_store": ("543846415d72d222", "streams.web.route.owner_of"),
    "faust.assignor.partition_assignor:PartitionAssignor.external_key_store": (
        "6e530a67b36e2272", "streams.web.route.owner_of (KeyError: no owner)"),
}


def current_hash(name: str) -> str:
    """The first 16 hex digits of the sha256 of the installed source of ``module:qualified.name``."""
    module, qualified = name.split(":")
    found: object = importlib.import_module(module)
    for part in qualified.split("."):
        found = getattr(found, part)
    return hashlib.sha256(inspect.getsource(found).encode()).hexdigest()[:16]  # type: ignore[arg-type]


def installed_versions() -> dict[str, str]:
    return {name: version(name) for name in VERSIONS}


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    print(installed_versions())
    for function_name, (_, where) in FUNCTIONS.items():
        print(f'    "{function_name}": ("{current_hash(function_name)}", "{where}"),')

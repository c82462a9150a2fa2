"""Quix Streams doing the read-models workload, as its documentation would have it written.

    /tmp/bench-quix-venv/bin/python -m bench.quix_app --bootstrap HOST:PORT --registry URL --topic T --group G \
        --state DIR

Run by ``bench.baselines`` with the Python of a venv of its own (Quix Streams 3.28 needs confluent-kafka below
2.13; we pin 2.16): it imports nothing of this project but ``bench.baseline_domain``, the pure domain functions.
A ``StreamingDataFrame`` over ``orders``: each order decoded and projected with its state (the orders read model,
keyed by order id like the topic), its deltas expanded into records, then one branch per read model repartitioned
with ``group_by`` on the read model's key (customer id, SKU, the constant stats key) and applied with that key's
state.  At-least-once, and our worker's commit policy (every 1,000 records or every second; Quix's default is every
5 s, which leaves nothing to time on a run of a few seconds: its read models, changelogs included, are done only
when committed), Quix's defaults otherwise (changelog topics on).  No validation, no dead
letters, no HTTP reads.  The state is read back from its changelog topics (``bench.baselines``).
"""

from __future__ import annotations

import argparse
from typing import Any

from quixstreams import Application, State, message_context

from bench.baseline_domain import STATS_KEY, Decoder, Position, apply_customer, apply_order, apply_sku, apply_stats

VIEW = "view"
"""The one state key per message key: the read model's row."""


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--bootstrap", "--registry", "--topic", "--group", "--state"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    decoder = Decoder(args.registry)
    app = Application(broker_address=args.bootstrap, consumer_group=args.group, auto_offset_reset="earliest",
                      state_dir=args.state, loglevel="WARNING", commit_interval=1.0, commit_every=1000)
    orders = app.topic(args.topic, key_deserializer="str", value_deserializer="bytes")

    def on_order(value: bytes, key: Any, timestamp: int, headers: Any, state: State) -> list[dict[str, Any]]:
        context = message_context()
        event, meta = decoder.decode(value, headers, Position(args.topic, context.partition, context.offset))
        outcome = apply_order(state.get(VIEW), event, meta)
        if outcome.kind != "applied":
            return []
        state.set(VIEW, outcome.view)
        return ([{"model": "customers", "delta": d} for d in outcome.customers]
                + [{"model": "inventory", "delta": d} for d in outcome.skus]
                + [{"model": "stats", "delta": d} for d in outcome.stats])

    def applying(apply: Any) -> Any:
        def step(record: dict[str, Any], state: State) -> None:
            view = apply(state.get(VIEW), record["delta"])
            if view is not None:
                state.set(VIEW, view)
        return step

    deltas = app.dataframe(orders).apply(on_order, stateful=True, metadata=True, expand=True)
    for model, key, apply in (("customers", lambda r: r["delta"]["customer_id"], apply_customer),
                              ("inventory", lambda r: r["delta"]["sku"], apply_sku),
                              ("stats", lambda r: STATS_KEY, apply_stats)):
        branch = deltas.filter(lambda r, model=model: r["model"] == model)
        branch.group_by(key, name=model).apply(applying(apply), stateful=True)
    app.run()


if __name__ == "__main__":
    main()

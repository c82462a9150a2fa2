"""Replay: consumer-group offset resets with Kafka's rules, and blue/green rebuilds of read models."""

from streams.replay.generations import Generational, declare_generations, rebuilding_topics
from streams.replay.offsets import GroupActiveError, GroupOffsets
from streams.replay.plan import Move, Reset, ResetKind, parse_datetime, parse_topic, plan
from streams.replay.rebuilds import REBUILDS_TOPIC, RebuildLog, RebuildPlan, table_name

__all__ = [
    "REBUILDS_TOPIC", "Generational", "GroupActiveError", "GroupOffsets", "Move", "RebuildLog", "RebuildPlan",
    "Reset", "ResetKind", "declare_generations", "parse_datetime", "parse_topic", "plan", "rebuilding_topics",
    "table_name",
]

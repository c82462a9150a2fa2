"""Routing: EventBridge-style event patterns over decoded records, and fan-out rules built on them."""

from streams.routing.fanout import ANY_EVENT, Fanout, Output, Rule
from streams.routing.filters import Pattern, PatternError, avro_field_paths, check_fields, compile_pattern

__all__ = [
    "ANY_EVENT", "Fanout", "Output", "Pattern", "PatternError", "Rule", "avro_field_paths", "check_fields",
    "compile_pattern",
]

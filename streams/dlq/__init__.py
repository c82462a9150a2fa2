"""Dead letters: the records, per-key parking, reading dead-letter topics back, and redrive."""

from streams.dlq.letters import PARKED, DeadLetter, RedriveMark, dead_letter_headers, describe, is_dlq_header
from streams.dlq.parking import Admission, Parked, admit

__all__ = [
    "PARKED", "Admission", "DeadLetter", "Parked", "RedriveMark", "admit", "dead_letter_headers", "describe",
    "is_dlq_header",
]

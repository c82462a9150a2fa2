"""Consumer lag: sampling (AdminClient), Burrow-style evaluation, and the data model."""

from streams.lag.evaluate import Evaluator, evaluate_window
from streams.lag.model import GroupLag, PartitionLag, Status
from streams.lag.sampler import LagSampler

__all__ = ["Evaluator", "GroupLag", "LagSampler", "PartitionLag", "Status", "evaluate_window"]

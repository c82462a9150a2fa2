"""Customer, inventory and stats projections (pure), fed by the order agent's deltas."""

from agents.readmodels.customers import CustomerView, apply_customer
from agents.readmodels.inventory import SkuView, apply_sku
from agents.readmodels.stats import STATS_KEY, StatsView, apply_stats

__all__ = ["STATS_KEY", "CustomerView", "SkuView", "StatsView", "apply_customer", "apply_sku", "apply_stats"]

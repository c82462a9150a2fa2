"""Faust agents: thin loops over the pure projections."""

from agents.consumers.order_agent import register_order_agent
from agents.consumers.readmodel_agents import register_readmodel_agents

__all__ = ["register_order_agent", "register_readmodel_agents"]

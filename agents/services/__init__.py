"""Simulated payment, inventory and shipping services: what answers the order saga's commands in a demo.

Each service is a pure handler (``payments``, ``inventory``, ``shipping``: state and command in, new state and
reply out) behind the topic a real service would consume (``payments``, ``inventory``, ``shipping``), answering on
``orders`` with the events of the catalog.  The saga sees only those topics and events, so a real service replaces a
simulated one by consuming the same topic and answering the same way, and the simulation is turned off
(STREAMS_SIMULATED_SERVICES=false).  The Faust wiring is ``agents.services.agents``; the topics they need,
``agents.services.topics``.

Nothing is imported here: ``agents.topics`` takes ``service_topic_specs`` from ``agents.services.topics`` without
loading the wiring (which imports ``agents.topics``).
"""

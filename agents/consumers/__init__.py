"""Faust agents: thin loops over the pure projections."""

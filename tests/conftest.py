"""Fixtures shared by both tiers: settings built explicitly, never from the caller's environment."""

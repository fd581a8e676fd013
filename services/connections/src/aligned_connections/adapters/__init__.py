"""Adapters of the connections service: everything that talks to the outside world."""

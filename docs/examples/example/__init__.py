"""A package only so that its tests are `example.tests.…`: under --import-mode=importlib a second
top-level `tests.unit` or `tests.integration` would stand in for a service's own, and its relative
imports (`from .fakes import …`) would find this example's modules instead."""

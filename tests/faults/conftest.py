"""Fixtures of the fault battery; the helpers themselves live in fault_helpers.py."""

from fault_helpers import _isolated, cli, good_model  # noqa: F401 - pytest fixtures

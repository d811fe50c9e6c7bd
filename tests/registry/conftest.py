"""Fixtures for registry tests: an isolated registry of runtime formats."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from voxelio.registry import store
from voxelio.registry.discovery import PluginWarning


@pytest.fixture
def isolated_registry() -> Iterator[store.Registry]:
    """A registry without any entry-point plugin, installed as the global one.

    Formats added with ``register_format`` during the test go into it; the
    previous registry and runtime formats come back afterwards.
    """
    saved_registry, saved_runtime = store._registry, dict(store._runtime_specs)
    store._runtime_specs.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        store._registry = store.Registry(environ={"VOXELIO_DISABLE_PLUGINS": "*"}).build()
    try:
        yield store._registry
    finally:
        store._registry = saved_registry
        store._runtime_specs.clear()
        store._runtime_specs.update(saved_runtime)

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etlcore.plugins import PluginInfo, PluginRegistry
from tests.engine import toy_plugins


@pytest.fixture
def registry() -> Iterator[PluginRegistry]:
    """Built-in plugins plus the toy plugins; installed entry points are left out."""
    loaded = PluginRegistry.load(entry_points_=False)
    loaded.add_module(toy_plugins, PluginInfo("toy", "tests", "0"))
    toy_plugins.STORES.clear()
    yield loaded
    toy_plugins.STORES.clear()

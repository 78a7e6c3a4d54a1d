"""``etl new-plugin``: write a ready-to-install plugin distribution from templates."""

from etlcore.scaffold.generator import KINDS, PluginNames, ScaffoldError, new_plugin

__all__ = ["KINDS", "PluginNames", "ScaffoldError", "new_plugin"]

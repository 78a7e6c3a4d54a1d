"""etlcore: a small plugin-based ETL engine. Pipelines are YAML; every step is a pluggy plugin."""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("etlcore")
"""Decorate a plugin module's ``register_*`` functions with this marker."""

__all__ = ["__version__", "hookimpl"]

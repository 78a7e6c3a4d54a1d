"""The etlcore entry point of image-enricher: registers the ``image_enricher.analyze`` step."""

from __future__ import annotations

from collections.abc import Callable

import etlcore
from etlcore.contract import Enricher
from image_enricher.enricher import AnalyzeImages


@etlcore.hookimpl
def register_enrichers(register: Callable[[type[Enricher]], None]) -> None:
    """Register :class:`~image_enricher.enricher.AnalyzeImages`."""
    register(AnalyzeImages)

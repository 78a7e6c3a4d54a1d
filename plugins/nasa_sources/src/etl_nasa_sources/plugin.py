"""Hook implementations: the entry point ``etlcore: nasa`` names this module."""

from __future__ import annotations

from collections.abc import Callable

import etlcore
from etl_nasa_sources.apod import ApodSource
from etl_nasa_sources.mars_photos import MarsPhotosSource
from etl_nasa_sources.neows import NeowsSource
from etl_nasa_sources.unify import UnifyTransform


@etlcore.hookimpl
def register_sources(register: Callable[[type], None]) -> None:
    register(ApodSource)
    register(NeowsSource)
    register(MarsPhotosSource)


@etlcore.hookimpl
def register_transforms(register: Callable[[type], None]) -> None:
    register(UnifyTransform)

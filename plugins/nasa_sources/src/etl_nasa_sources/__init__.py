"""etlcore plugins for NASA APOD, NeoWs and Mars Rover Photos, and the ``nasa.unify`` transform."""

from etl_nasa_sources.apod import ApodSource
from etl_nasa_sources.mars_photos import MarsPhotosSource
from etl_nasa_sources.neows import NeowsSource
from etl_nasa_sources.unify import UnifyTransform

__all__ = ["ApodSource", "MarsPhotosSource", "NeowsSource", "UnifyTransform"]

"""A local NASA API for tests, benchmarks and offline runs (see docs/nasa-sources.md).

``with NasaSimulator() as sim:`` then point ``NASA_API_URL`` at ``sim.base_url`` and
``MARS_PHOTOS_API_URL`` at ``sim.mars_url``; ``sim.requests`` logs what was asked.
"""

from tests.simulator.dataset import NasaDataset, shared_fixtures_dir
from tests.simulator.server import Faults, LoggedRequest, NasaSimulator

__all__ = ["Faults", "LoggedRequest", "NasaDataset", "NasaSimulator", "shared_fixtures_dir"]

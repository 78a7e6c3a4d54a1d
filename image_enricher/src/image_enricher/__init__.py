"""image-enricher: an SSRF-safe image-analysis service and the etlcore enricher that uses it.

Both read only the start of each image: enough bytes for its width, height and format.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

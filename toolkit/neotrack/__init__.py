"""neotrack: cell tracking with candidate hierarchies, a MIP solver, and Neo4j as the store of record."""

from importlib.metadata import PackageNotFoundError, version

from neotrack.errors import InputError, NeotrackError, ServerError, StoreError
from neotrack.store import Store

try:
    __version__ = version("neotrack")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["InputError", "NeotrackError", "ServerError", "Store", "StoreError", "__version__"]

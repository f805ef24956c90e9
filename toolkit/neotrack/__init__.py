"""neotrack: cell tracking with candidate hierarchies, a MIP solver, and Neo4j as the store of record."""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from neotrack.config import Config
from neotrack.errors import InputError, NeotrackError, ServerError, StoreError
from neotrack.store import Store

try:
    __version__ = version("neotrack")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "Config",
    "InputError",
    "NeotrackError",
    "ServerError",
    "Store",
    "StoreError",
    "__version__",
    "segment",
]


def __getattr__(name: str) -> Any:
    # The pipeline steps pull in image libraries: load them on first use, so that
    # `import neotrack` (and the CLI's db commands) stay quick.
    if name == "segment":
        from neotrack.candidates import segment

        return segment
    raise AttributeError(f"module 'neotrack' has no attribute {name!r}")

"""The local Neo4j server neotrack builds from Maven Central and manages for the user."""

from neotrack.server._process import ServerStatus, running_uri, start, status, stop
from neotrack.server._settings import ServerSettings

__all__ = ["ServerSettings", "ServerStatus", "running_uri", "start", "status", "stop"]

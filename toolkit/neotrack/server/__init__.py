"""The local Neo4j server neotrack builds from Maven Central and manages for the user."""

from neotrack.server._process import ServerStatus, start, status, stop
from neotrack.server._settings import ServerSettings, check_port

__all__ = ["ServerSettings", "ServerStatus", "check_port", "start", "status", "stop"]

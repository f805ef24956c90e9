"""Settings of the local Neo4j server, read from the environment (``NEOTRACK_*``)."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from neotrack._system import check_port, user_data_dir
from neotrack.errors import InputError, ServerError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Bytes in a size such as ``512m``, ``2g`` or ``1048576``."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise InputError(f"size {text!r} is not understood: expected e.g. 512m, 2g or a byte count")
    number, unit = match.groups()
    return int(float(number) * 1024 ** "_kmgt".index(unit.lower() or "_"))


def is_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback one (127.0.0.0/8, ::1).

    Raises:
        ServerError: ``host`` does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise ServerError(
            f"host {host!r} does not resolve: expected an address such as 127.0.0.1 or a known name"
        ) from None
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return bool(addresses) and all(_loopback_address(a) for a in addresses)


def _loopback_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return (mapped or address).is_loopback


def bolt_uri(host: str, port: int) -> str:
    """The URI a client uses for a server listening on ``host``:``port`` (any address: loopback)."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"bolt://[{host}]:{port}" if ":" in host else f"bolt://{host}:{port}"


def _cache_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "neotrack"


class ServerSettings(BaseModel):
    """Where and how the local Neo4j runs.

    Every field can be set by an environment variable (see :meth:`from_env`). A password is required
    whenever the server listens on anything but the loopback interface.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default_factory=lambda: user_data_dir() / "neo4j")
    """The server's home: store files, transaction logs, its log and pid file (NEOTRACK_DATA_DIR)."""
    build_dir: Path = Field(default_factory=lambda: _cache_home() / "launcher")
    """Where Maven puts the launcher and Neo4j's jars, shared by all data dirs (NEOTRACK_BUILD_DIR)."""
    host: str = "127.0.0.1"
    """Bolt listen address (NEOTRACK_NEO4J_HOST)."""
    port: int = Field(default=7687, ge=1, le=65535)
    """Bolt port (NEOTRACK_NEO4J_PORT)."""
    heap: str = "2g"
    """JVM heap, e.g. ``1g`` (NEOTRACK_NEO4J_HEAP); transactions may use 70 % of it."""
    pagecache: str = "512m"
    """Neo4j page cache, e.g. ``512m`` (NEOTRACK_NEO4J_PAGECACHE)."""
    password: str | None = None
    """Password of user ``neo4j``; None turns authentication off (NEOTRACK_NEO4J_PASSWORD)."""
    startup_timeout: float = 120.0
    """Seconds to wait for Bolt to answer after launching the JVM."""

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: object) -> int:
        return check_port(value)

    @field_validator("heap", "pagecache")
    @classmethod
    def _size(cls, value: str) -> str:
        parse_size(value)
        return value

    @classmethod
    def from_env(cls, **overrides: object) -> ServerSettings:
        """Settings from ``NEOTRACK_*`` variables; keyword arguments that are not None win."""
        env = {
            "data_dir": "NEOTRACK_DATA_DIR",
            "build_dir": "NEOTRACK_BUILD_DIR",
            "host": "NEOTRACK_NEO4J_HOST",
            "port": "NEOTRACK_NEO4J_PORT",
            "heap": "NEOTRACK_NEO4J_HEAP",
            "pagecache": "NEOTRACK_NEO4J_PAGECACHE",
            "password": "NEOTRACK_NEO4J_PASSWORD",
        }
        values: dict[str, object] = {k: os.environ[v] for k, v in env.items() if os.environ.get(v)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValueError as exc:
            raise InputError(f"bad server setting: {_first_error(exc)}") from None

    @property
    def uri(self) -> str:
        return bolt_uri(self.host, self.port)

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "neotrack-server.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "neotrack-server.log"


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        err = errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        if err.get("type") == "value_error" and "error" in err.get("ctx", {}):
            return f"{where}: {err['ctx']['error']}"  # our own message says what it got
        return f"{where}: {err.get('msg')} (got {err.get('input')!r})"
    return str(exc)

"""What the store and the local server both need of this machine: its data folder, valid ports."""

from __future__ import annotations

import os
import re
from pathlib import Path

from neotrack.errors import InputError

_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/neotrack`` (default ``~/.local/share/neotrack``): the toolkit's own files."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "neotrack"


def check_port(value: object) -> int:
    """``value`` as a TCP port; InputError unless it is a whole number from 1 to 65535."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InputError(f"expected a port from 1 to 65535, got {value!r}")
    return value

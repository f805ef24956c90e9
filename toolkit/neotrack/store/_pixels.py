"""Where a store's pixels live: candidate masks, flow fields — everything too big for the graph.

Each dataset's pixel stores sit in a folder named by the dataset's immutable id, never by its
name: ``<home>/<uid>/masks.zarr``, ``<home>/<uid>/flow.zarr``, with ``<home>/<uid>/neotrack.json``
saying whose folder it is (only folders with that file are ever deleted). ``<home>`` is, in order:

1. the folder the user chose (``--working-dir``, ``data.working_dir``, ``NEOTRACK_WORKING_DIR``),
   recorded on the dataset as ``pixels_dir``;
2. for the local server the toolkit manages: ``<its data dir>/pixels`` — the pixels belong to the
   store they describe;
3. for any other server: ``<user data dir>/neotrack/stores/<store id>``, the id being one the
   toolkit writes once into that database.

Nothing machine-bound is stored for cases 2 and 3; a recorded ``pixels_dir`` that no longer exists
can be moved with ``neotrack datasets relocate``, and ``NEOTRACK_WORKING_DIR`` is searched too.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from pathlib import Path
from typing import Any

from neotrack._system import user_data_dir
from neotrack.errors import InputError

log = logging.getLogger(__name__)

ENV = "NEOTRACK_WORKING_DIR"
MARKER = "neotrack.json"


def default_home(uri: str, store_id: str) -> Path:
    """The pixel home of a store that the user did not choose one for (cases 2 and 3 above).

    Decided from the local server's pid file and name resolution: no connection is opened."""
    from neotrack.server import ServerSettings, running_uri

    settings = ServerSettings.from_env()
    local = running_uri(settings)
    if local is not None and _same_server(local, uri):
        return settings.data_dir / "pixels"
    return user_data_dir() / "stores" / store_id


def chosen_home(working_dir: str | Path | None) -> Path | None:
    """The folder the user chose (the argument, else ``NEOTRACK_WORKING_DIR``), absolute; or None."""
    chosen = working_dir or os.environ.get(ENV)
    return Path(chosen).expanduser().resolve() if chosen else None


def check_writable(home: Path) -> None:
    """Refuse a pixel home that cannot be created or written, before anything is changed."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / f".neotrack-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"cannot write pixels to {home}: {exc.strerror or exc}") from None


def make_dataset_dir(home: Path, uid: str, dataset: str, store_id: str) -> Path:
    """``<home>/<uid>``, created with its marker (or re-used when the marker says it is this one)."""
    folder = home / uid
    marker = folder / MARKER
    if folder.exists() and owner(folder) != uid:
        raise InputError(f"{folder} exists and was not written by neotrack for this dataset: not touching it")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not marker.exists():
            marker.write_text(json.dumps({"dataset": dataset, "uid": uid, "store": store_id}) + "\n")
    except OSError as exc:
        raise InputError(f"cannot write pixels to {folder}: {exc.strerror}") from None
    return folder


def owner(folder: Path) -> str | None:
    """The dataset uid a pixel folder belongs to, from its marker; None if it has none."""
    try:
        return str(json.loads((folder / MARKER).read_text())["uid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_dataset_dir(homes: list[Path], uid: str) -> Path | None:
    """The first ``<home>/<uid>`` among ``homes`` whose marker names ``uid``; None if none does."""
    return next((home / uid for home in homes if owner(home / uid) == uid), None)


def missing_error(homes: list[Path], uid: str, dataset: str) -> InputError:
    """What to tell a user whose dataset's pixel folder is in none of ``homes``."""
    where = ", ".join(str(h) for h in dict.fromkeys(homes))
    return InputError(
        f"the pixels (candidate masks) of dataset {dataset!r} (id {uid}) are in none of {where}: "
        f"if you moved the folder {uid}, run `neotrack datasets relocate {dataset} --working-dir "
        f"PARENT_OF_IT` or set {ENV}; otherwise segment it again with --overwrite"
    )


def remove_dataset_dir(folder: Path, uid: str) -> bool:
    """Delete a dataset's pixel folder — only when its marker says it is that dataset's."""
    if owner(folder) != uid:
        return False
    if folder.is_symlink():  # the user moved the folder and linked it: remove the link, not the target
        folder.unlink()
        log.info("removed the link %s to the pixels of dataset id %s", folder, uid)
        return True
    try:
        for entry in folder.iterdir():
            if entry.name != MARKER:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        (folder / MARKER).unlink()
        folder.rmdir()
    except OSError as exc:
        log.warning("could not remove all pixels of dataset id %s in %s: %s", uid, folder, exc)
        return False
    log.info("removed the pixels of dataset id %s in %s", uid, folder)
    return True


def check_outside(path: Path, inputs: list[Any], what: str) -> None:
    """Refuse an output ``path`` equal to, or inside, one of the input paths (one line naming both).

    An output folder that contains an input is the caller's to judge (exporters refuse any folder
    holding files they did not write; pixel folders are sub-folders named by a dataset id)."""
    out = Path(path).expanduser().resolve()
    for item in inputs:
        if not isinstance(item, str | Path):
            continue
        src = Path(item).expanduser().resolve()
        if out == src or src in out.parents:
            where = "is" if out == src else "lies inside"
            raise InputError(f"{what} {path} {where} the input {item}: choose a folder outside it")


def _same_server(a: str, b: str) -> bool:
    from urllib.parse import urlsplit

    def where(uri: str) -> tuple[set[str], int | None]:
        parts = urlsplit(uri)
        try:
            hosts = {str(ai[4][0]) for ai in socket.getaddrinfo(parts.hostname or "", parts.port or 7687)}
        except OSError:
            hosts = {parts.hostname or ""}
        return hosts, parts.port or 7687

    (hosts_a, port_a), (hosts_b, port_b) = where(a), where(b)
    return port_a == port_b and bool(hosts_a & hosts_b)

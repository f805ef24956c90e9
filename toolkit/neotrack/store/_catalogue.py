"""The dataset catalogue: create, describe, list and delete datasets; their write lock; their stages."""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from neotrack.errors import DatasetExistsError, InputError, QueryError
from neotrack.store import _cypher as cy
from neotrack.store import _pixels as px
from neotrack.store._connection import (
    HEARTBEAT_INTERVAL,
    LOCK_TIMEOUT,
    Connection,
    busy_error,
    native,
    not_found,
)
from neotrack.store._info import DatasetInfo, Stage, stage_keys
from neotrack.store._tables import to_python, validate_dataset_name

log = logging.getLogger(__name__)


class Catalogue(Connection):
    """Datasets as a whole: what the graph records about each one, who writes it, where its pixels are."""

    # --- datasets -------------------------------------------------------------------------
    def create_dataset(self, name: str, overwrite: bool = False, **attrs: Any) -> None:
        """Create dataset ``name`` with scalar or list attributes (shape, voxel_size, source...).

        Raises:
            DatasetExistsError: it exists and ``overwrite`` is False.
        """
        validate_dataset_name(name)
        if self.has_dataset(name):
            if not overwrite:
                raise DatasetExistsError(
                    f"dataset {name!r} exists already: choose another name, or overwrite it "
                    "(--overwrite / overwrite=True)"
                )
            self.delete_dataset(name)
        self._create(name, attrs, lock=None)
        log.info("created dataset %r", name)

    def _create(self, name: str, attrs: dict[str, Any], lock: Stage | str | None) -> bool:
        """CREATE the node with a new uid (locked by this client for ``lock``); False if it exists."""
        props = {k: to_python(v) for k, v in attrs.items() if v is not None}
        props["uid"] = uuid.uuid4().hex
        token = uuid.uuid4().hex
        if lock is not None:
            props.update(_lock_props(token, str(lock)))
        try:
            self._run(cy.CREATE_DATASET, dataset=name, props=props)
        except QueryError:
            if self.has_dataset(name):  # created by another client in the meantime
                return False
            raise
        if lock is not None:
            self._tokens[name] = token
        return True

    def update_dataset(self, name: str, **attrs: Any) -> None:
        """Set attributes of an existing dataset (None removes one)."""
        props = {k: to_python(v) for k, v in attrs.items()}
        if not self._write(cy.UPDATE_DATASET, name, props=props)[0]["n"]:
            raise self._busy(name) or not_found(name)

    def has_dataset(self, name: str) -> bool:
        return bool(self._run(cy.GET_DATASET, dataset=name))

    def dataset(self, name: str) -> dict[str, Any]:
        """The attributes of dataset ``name``, as stored."""
        rows = self._run(cy.GET_DATASET, dataset=name)
        if not rows:
            raise not_found(name)
        return {k: native(v) for k, v in rows[0]["props"].items()}

    def info(self, name: str) -> DatasetInfo:
        """The dataset's identity, the state of each of its stages, and who else writes it."""
        props = self.dataset(name)
        if props.get("lock_owner") is not None and props["lock_owner"] == self._tokens.get(name):
            props = {k: v for k, v in props.items() if not k.startswith("lock_")}  # our own lock
        return DatasetInfo.from_props(name, props)

    def list_datasets(self) -> pd.DataFrame:
        """One row per dataset: name, created, segments, ndim, shape, stage, source."""
        rows = self._run(cy.LIST_DATASETS)
        cols = ["name", "created", "segments", "ndim", "shape", "stage", "source"]
        return pd.DataFrame([dict(r) for r in rows], columns=cols)

    def delete_dataset(self, name: str) -> int:
        """Delete a dataset, everything in it and its pixels, in batches; returns the segments deleted.

        Nothing of any other dataset is touched: every element carries its dataset's name, and
        pixel folders are named by the dataset's id.
        """
        with self.writing(name, "delete"):
            info = self.info(name)
            folder = self.find_pixels(info)
            deleted = self.delete_segments(name)
            if not self._write(cy.DELETE_DATASET_NODE, name)[0]["n"]:
                self._check_fence(name)
            if folder is not None and info.uid:
                px.remove_dataset_dir(folder, info.uid)
        log.info("deleted dataset %r (%d segments)", name, deleted)
        return deleted

    def delete_segments(self, dataset: str, t_start: int = 0) -> int:
        """Delete the segments of frames >= ``t_start`` with their relationships, in batches."""
        return self._delete_batches(cy.DELETE_SEGMENTS_BATCH, dataset, t_start)

    def _delete_batches(self, query: str, dataset: str, t_start: int = 0) -> int:
        self._check_fence(dataset)
        deleted = 0
        while n := self._write(query, dataset, t_start=t_start, batch=self.batch_size)[0][0]:
            deleted += n
        self._check_fence(dataset)  # a batch that matched nothing because the lock was lost
        return deleted

    # --- the write lock -------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(
        self, dataset: str, stage: Stage | str, create: dict[str, Any] | None = None
    ) -> Iterator[bool]:
        """Hold ``dataset``'s write lock while the block runs; yields whether this call created it.

        One writer per dataset at a time, wherever the writers run: the lock is a property of the
        dataset's node, kept alive by a heartbeat, and every write statement checks it. A lock whose
        holder is gone expires after ``LOCK_TIMEOUT`` s without a heartbeat, or at once when its
        holder ran on this machine and its process no longer exists. Re-entrant for this client.
        With ``create`` (the new dataset's attributes) a missing dataset is created, locked.

        Raises:
            DatasetBusyError: another run holds the lock.
            DatasetNotFoundError: the dataset does not exist (and ``create`` is None).
        """
        if dataset in self._tokens:
            yield False
            return
        created = create is not None and not self.has_dataset(dataset)
        if created:
            validate_dataset_name(dataset)
            created = self._create(dataset, create or {}, lock=stage)
        if not created:
            self._acquire(dataset, str(stage))
        beat = _Heartbeat(self, dataset, self._tokens[dataset])
        try:
            yield created
        finally:
            beat.stop()
            token = self._tokens.pop(dataset)
            with contextlib.suppress(Exception):  # a dead server: the lock expires by itself
                self._run(cy.RELEASE_LOCK, dataset=dataset, token=token)

    def _acquire(self, dataset: str, stage: str) -> None:
        token = uuid.uuid4().hex
        rows = self._run(
            cy.ACQUIRE_LOCK,
            dataset=dataset,
            stale_owner=self._dead_local_owner(dataset),
            timeout=LOCK_TIMEOUT,
            **_lock_params(token, stage),
        )
        if not rows:
            raise not_found(dataset)
        if not rows[0]["free"]:
            raise busy_error(dataset, self._run(cy.LOCK_STATE, dataset=dataset, timeout=LOCK_TIMEOUT)[0])
        self._tokens[dataset] = token

    def _dead_local_owner(self, dataset: str) -> str | None:
        """The token of a lock held by a process of this machine that no longer exists."""
        rows = self._run(cy.LOCK_STATE, dataset=dataset, timeout=LOCK_TIMEOUT)
        if not rows or rows[0]["owner"] is None or rows[0]["host"] != socket.gethostname():
            return None
        try:
            os.kill(int(rows[0]["pid"]), 0)
        except ProcessLookupError:
            log.info("taking over the lock of %r left by a dead process (pid %s)", dataset, rows[0]["pid"])
            return str(rows[0]["owner"])
        except (OSError, TypeError, ValueError):
            return None
        return None

    # --- stages ---------------------------------------------------------------------------
    def begin_stage(self, dataset: str, stage: Stage, resume_at: int | None = None, **attrs: Any) -> None:
        """Mark ``stage`` running and drop what it replaces; the caller holds the write lock.

        The stages after it are invalidated (their keys removed, their graph data deleted): a
        segmentation drops links and solution, linking drops the solution. ``resume_at`` (a run
        resuming an interrupted one) keeps this stage's keys and its data of earlier frames; None
        starts the stage over.
        """
        if dataset not in self._tokens:
            raise RuntimeError(f"begin_stage({dataset!r}) without holding its write lock")
        drop = stage.after if resume_at is not None else (stage, *stage.after)
        t_start = resume_at or 0
        update = stage_keys(self.dataset(dataset), drop) | {f"{stage}_{k}": v for k, v in attrs.items()}
        self.update_dataset(dataset, **(update | {f"{stage}_status": "running"}))
        if stage is Stage.SEGMENT:  # DETACH DELETE takes links and solution with the segments
            self.delete_segments(dataset, t_start)
            return
        if stage is Stage.LINK:
            self._delete_batches(cy.DELETE_LINKS_BATCH, dataset, t_start)
        self._clear_solution(dataset)

    def finish_stage(self, dataset: str, stage: Stage, **attrs: Any) -> None:
        """Mark ``stage`` done, recording ``attrs`` (prefixed with the stage), version, time and a
        run id (``<stage>_run``, new for every run: readers compare it to notice a replaced result)."""
        from neotrack import __version__

        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        props = {f"{stage}_{k}": v for k, v in attrs.items()}
        props |= {f"{stage}_status": "done", f"{stage}_version": __version__, f"{stage}_finished": now}
        props[f"{stage}_run"] = uuid.uuid4().hex
        self.update_dataset(dataset, **props)

    def _clear_solution(self, dataset: str) -> None:
        for query in (cy.DELETE_PARTS_BATCH, cy.CLEAR_NEXT_BATCH, cy.CLEAR_SELECTION_BATCH):
            self._delete_batches(query, dataset)

    # --- pixels ---------------------------------------------------------------------------
    @functools.cached_property
    def default_pixel_home(self) -> Path:
        """The store's own pixel home (see ``_pixels``); decided once per Store, without a query."""
        return px.default_home(self.uri, self.store_id)

    def pixel_home(self, working_dir: str | Path | None = None) -> Path:
        """Where new pixel stores of this store go: the chosen folder, else the store's data home."""
        return px.chosen_home(working_dir) or self.default_pixel_home

    def check_pixel_home(self, working_dir: str | Path | None = None) -> Path:
        """The home new pixel stores would go to, checked to be writable (nothing else is changed)."""
        home = self.pixel_home(working_dir)
        px.check_writable(home)
        return home

    def new_pixels(self, dataset: str, working_dir: str | Path | None = None) -> Path:
        """A fresh pixel folder for ``dataset`` (its old one removed); recorded on the dataset."""
        info = self.info(dataset)
        if info.uid is None:  # made by an older neotrack: it gets its id now
            self.update_dataset(dataset, uid=uuid.uuid4().hex)
            info = self.info(dataset)
        assert info.uid is not None
        if (old := self.find_pixels(info)) is not None:
            px.remove_dataset_dir(old, info.uid)
        chosen = px.chosen_home(working_dir)
        folder = px.make_dataset_dir(chosen or self.default_pixel_home, info.uid, dataset, self.store_id)
        self.update_dataset(dataset, pixels_dir=None if chosen is None else str(chosen))
        return folder

    def pixels(self, dataset: str | DatasetInfo) -> Path:
        """The existing pixel folder of a dataset (masks, flow fields).

        Raises:
            InputError: it has none, or it cannot be found (with how to relocate it).
        """
        info = dataset if isinstance(dataset, DatasetInfo) else self.info(dataset)
        if info.uid is None:
            raise InputError(f"dataset {info.name!r} has no pixels: run `neotrack segment` first")
        homes = self._pixel_homes(info)
        found = px.find_dataset_dir(homes, info.uid)
        if found is None:
            raise px.missing_error(homes, info.uid, info.name)
        return found

    def find_pixels(self, dataset: str | DatasetInfo) -> Path | None:
        """The pixel folder of a dataset, or None when it has none (or it cannot be found)."""
        info = dataset if isinstance(dataset, DatasetInfo) else self.info(dataset)
        return None if info.uid is None else px.find_dataset_dir(self._pixel_homes(info), info.uid)

    def relocate_pixels(self, dataset: str, working_dir: str | Path) -> Path:
        """Record that ``dataset``'s pixel folder now lies in ``working_dir`` (checked)."""
        info = self.info(dataset)
        home = Path(working_dir).expanduser().resolve()
        if info.uid is None or px.owner(home / info.uid) != info.uid:
            raise InputError(
                f"{home} holds no pixel folder of dataset {dataset!r} (expected {home / str(info.uid)})"
            )
        with self.writing(dataset, "relocate"):
            self.update_dataset(dataset, pixels_dir=str(home))
        return home / info.uid

    def _pixel_homes(self, info: DatasetInfo) -> list[Path]:
        """Where to look for a dataset's pixel folder: its recorded home, the chosen one, the store's."""
        homes = [Path(info.pixels_dir)] if info.pixels_dir else []
        if chosen := px.chosen_home(None):
            homes.append(chosen)
        return [*homes, self.default_pixel_home]


def _lock_params(token: str, stage: str) -> dict[str, Any]:
    return {"token": token, "stage": stage, "host": socket.gethostname(), "pid": os.getpid()}


def _lock_props(token: str, stage: str) -> dict[str, Any]:
    """The lock of a dataset created locked; its times are the server's (``CREATE_DATASET``)."""
    params = _lock_params(token, stage)
    return {f"lock_{k}": v for k, v in params.items() if k != "token"} | {"lock_owner": token}


class _Heartbeat:
    """Refreshes a held lock every ``HEARTBEAT_INTERVAL`` s from a daemon thread."""

    def __init__(self, store: Connection, dataset: str, token: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(store, dataset, token), name="neotrack-lock", daemon=True
        )
        self._thread.start()

    def _run(self, store: Connection, dataset: str, token: str) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL):
            try:
                if not store._run(cy.HEARTBEAT, dataset=dataset, token=token)[0]["n"]:
                    log.warning("lost the write lock of %r (expired, or taken over)", dataset)
                    return
            except Exception as exc:  # the server may be briefly away; the next beat retries
                log.debug("lock heartbeat of %r failed: %s", dataset, exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

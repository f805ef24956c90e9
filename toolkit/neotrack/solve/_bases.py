"""Optimal LP bases kept beside a dataset's pixels, so that solving frames again starts near the end.

A simplex basis says, for each column and row of a program, whether it is basic or sits at a bound.
HiGHS started from the optimal basis of an overlapping program needs a few hundred iterations
where a start from the stored 0/1 choice needs thousands: that choice is optimal, but the basis
made of it is not, and proving its optimality is most of the work (iterations counted by hand;
``bench/bench_solve.py window`` prints the seconds).

So every window ``solve`` solves leaves the basis of its LP relaxation, and every ``solve_window``
the basis of its range, in ``<pixel folder>/bases/``; the columns and rows are named by what they
are about (``TrackingProblem.names``: a segment's id, a transition's ends, a chain's leaf), so a
basis serves any other program over the same frames: another range, other pins. Only the time
depends on it, never the optimum; a missing or unreadable file is a slower start, nothing else.

Each file holds the statuses of the frames it was solved for (the frame of a name's first id),
``<sequence>-<first>-<last>.npz``, but for those a cold start has too (columns at their lower
bound, rows' slacks basic): a third of them. A frame's statuses are those of the newest file that
holds it; a file whose frames newer ones hold is removed. ``solve`` starts the folder anew.

"Never the optimum": the objective is the same from any start; where several choices tie, which
of them the simplex reaches may differ, as it may with any other start.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from neotrack.solve._problem import TrackingProblem
from neotrack.store import ID_STRIDE, DatasetInfo, Store

log = logging.getLogger(__name__)

LOWER, BASIC, UPPER = 0, 1, 2
"""Simplex statuses, numbered as HiGHS numbers them (``HighsBasisStatus``)."""

FOLDER = "bases"
_FILE = re.compile(r"(\d+)-(\d+)-(\d+)\.npz")


@dataclasses.dataclass(frozen=True)
class Basis:
    """Simplex statuses of named columns and rows: ``names`` ``(n, 3)`` as ``TrackingProblem.names``
    gives them, ``status`` one of ``LOWER``, ``BASIC``, ``UPPER`` each; unnamed ones and those a
    cold start has too are left out."""

    names: np.ndarray
    status: np.ndarray

    @classmethod
    def of(
        cls,
        p: TrackingProblem,
        col_status: np.ndarray,
        row_status: np.ndarray,
        names: np.ndarray,
    ) -> Basis:
        """The basis of program ``p`` from its columns' and rows' statuses (``names``: ``p.names()``)."""
        status = np.concatenate([col_status, row_status]).astype(np.int8)
        keep = (names[:, 0] != 0) & (status != _cold(p))
        return cls(names[keep], status[keep])

    def frames(self) -> np.ndarray:
        """The frame each status belongs to: that of the first id in its name."""
        return self.names[:, 1] // ID_STRIDE

    def within(self, first: int, last: int) -> Basis:
        """The statuses of frames ``first`` to ``last``."""
        frames = self.frames()
        keep = (frames >= first) & (frames <= last)
        return Basis(self.names[keep], self.status[keep])

    def statuses_for(
        self, p: TrackingProblem, names: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The statuses of ``p``'s columns and rows that this basis names; the others as a cold
        start has them (columns at their lower bound, rows' slacks basic). None when it names
        none of them. ``names``: ``p.names()``, where already made."""
        wanted, kept, known = p.names() if names is None else names, _index(self.names), self.status
        if not kept.is_unique:  # (files written by this module never hold a name twice)
            once = ~kept.duplicated()
            kept, known = kept[once], known[once]
        found = kept.get_indexer(_index(wanted))
        found[wanted[:, 0] == 0] = -1
        if not (found >= 0).any():
            return None
        status = np.where(found >= 0, known[found], _cold(p))
        return status[: p.n_cols], status[p.n_cols :]


def _cold(p: TrackingProblem) -> np.ndarray:
    """The statuses of a cold start: columns at their lower bound, rows' slacks basic."""
    return np.where(np.arange(p.n_cols + p.n_rows) < p.n_cols, LOWER, BASIC).astype(np.int8)


def basis_folder(store: Store, info: DatasetInfo) -> BasisFolder | None:
    """Where the bases of a dataset are kept: beside its pixels; None when it has none."""
    pixels = store.find_pixels(info)
    return None if pixels is None else BasisFolder(pixels / FOLDER)


def _read(path: Path) -> Basis | None:
    """One basis file, or None (logged) when it is not one this module wrote."""
    try:
        with np.load(path) as f:
            names, status = f["names"].T, f["status"]
    except Exception as exc:  # damaged in any way: no start from it
        log.debug("ignoring the unreadable basis file %s: %s", path, exc)
        return None
    if names.ndim != 2 or names.shape[1] != 3 or status.shape != (len(names),):
        log.debug("ignoring the basis file %s: not laid out as this version writes them", path)
        return None
    return Basis(names.astype(np.int64), status.astype(np.int8))


def _index(names: np.ndarray) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays(names.T)


class BasisFolder:
    """The bases kept for one dataset (see the module's docstring). Reads and writes never fail
    the caller: a basis only makes a solve start sooner."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._unwritable = False

    def save(self, basis: Basis, first: int, last: int) -> None:
        """Keep ``basis`` for frames ``first`` to ``last``, those solved (its statuses of them; an
        edge frame whose statuses a cold start has too is covered all the same). Written whole or
        not at all; after a failed write, this folder is written no more: one warning, not one per
        window. Files whose frames newer ones hold, and what interrupted writes left, are removed."""
        basis = basis.within(first, last)
        if not len(basis.status) or self._unwritable:
            return
        temporary = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for left in self.folder.glob("*.tmp"):  # one writer per dataset: these are a dead one's
                left.unlink(missing_ok=True)
            with (
                tempfile.NamedTemporaryFile(dir=self.folder, suffix=".tmp", delete=False) as f,
                zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z,
            ):
                temporary = Path(f.name)
                for name, array in (("names", basis.names.T), ("status", basis.status)):
                    with z.open(f"{name}.npy", "w") as out:  # names by column: a third the size
                        np.lib.format.write_array(out, np.ascontiguousarray(array))
            os.replace(temporary, self.folder / f"{time.time_ns()}-{first}-{last}.npz")
            temporary = None
            held: set[int] = set()
            for path, (_, lo, hi) in reversed(self._files()):  # newest first
                frames_here = set(range(lo, hi + 1))
                if frames_here <= held:
                    path.unlink(missing_ok=True)
                held |= frames_here
        except OSError as exc:
            self._unwritable = True
            log.warning(
                "could not keep the LP basis of frames %d-%d in %s (%s): solving frames again will "
                "start further from the optimum",
                first,
                last,
                self.folder,
                exc,
            )
        finally:
            if temporary is not None:
                temporary.unlink(missing_ok=True)

    def load(self, first: int, last: int) -> Basis | None:
        """The statuses kept for frames ``first`` to ``last``, each frame's from the newest file
        that holds it; None when none is kept. Whatever the folder holds, this never raises."""
        try:
            return self._load(first, last)
        except Exception as exc:  # a basis is only a start: any failure is none
            log.debug("no kept basis for frames %d-%d in %s: %s", first, last, self.folder, exc)
            return None

    def _load(self, first: int, last: int) -> Basis | None:
        parts, held = [], np.zeros(last - first + 1, bool)
        for path, (_, lo, hi) in reversed(self._files()):
            lo, hi = max(lo, first), min(hi, last)
            if lo > hi or held[lo - first : hi - first + 1].all():
                continue
            basis = _read(path)
            if basis is None:
                continue
            frames = basis.frames()
            inside = (frames >= lo) & (frames <= hi)
            inside[inside] = ~held[frames[inside] - first]
            parts.append(Basis(basis.names[inside], basis.status[inside]))
            held[lo - first : hi - first + 1] = True
        if not parts:
            return None
        return Basis(np.concatenate([b.names for b in parts]), np.concatenate([b.status for b in parts]))

    def clear(self) -> None:
        """Forget every basis (a new solution is on its way)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _files(self) -> list[tuple[Path, tuple[int, int, int]]]:
        """The basis files, oldest first, with (sequence, first frame, last frame)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            if m := _FILE.fullmatch(path.name):
                sequence, lo, hi = (int(g) for g in m.groups())
                found.append((path, (sequence, lo, hi)))
        return sorted(found, key=lambda item: item[1][0])

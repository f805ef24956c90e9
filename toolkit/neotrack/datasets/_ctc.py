"""Write a synthetic scene in Cell Tracking Challenge layout."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from neotrack.datasets._synthetic import SyntheticScene

log = logging.getLogger(__name__)


def write_ctc(scene: SyntheticScene, root: str | Path, sequence: str = "01") -> Path:
    """Write ``root/NN/tXXX.tif`` and ground truth ``root/NN_GT/TRA/`` (man_track.txt + masks).

    Returns the folder of raw frames, ``root/NN``.
    """
    root = Path(root)
    raw, tra = root / sequence, root / f"{sequence}_GT" / "TRA"
    raw.mkdir(parents=True, exist_ok=True)
    tra.mkdir(parents=True, exist_ok=True)
    digits = max(3, len(str(scene.n_frames - 1)))
    for t in range(scene.n_frames):
        tifffile.imwrite(raw / f"t{t:0{digits}d}.tif", scene.images[t], compression="zlib")
        tifffile.imwrite(tra / f"man_track{t:0{digits}d}.tif", scene.labels[t], compression="zlib")
    write_track_file(scene.tracks, tra / "man_track.txt")
    log.info("wrote %d frames and ground truth to %s", scene.n_frames, root)
    return raw


def write_track_file(tracks: pd.DataFrame, path: str | Path) -> None:
    """A CTC ``L B E P`` text file."""
    rows = tracks[["L", "B", "E", "P"]].to_numpy(dtype=np.int64)
    Path(path).write_text("".join(f"{a} {b} {c} {d}\n" for a, b, c, d in rows))


def lineage_links(tracks: pd.DataFrame) -> pd.DataFrame:
    """Transitions of a CTC lineage as ``source, target`` segment ids.

    A track continues from each of its frames to the next; a child track is linked from its
    parent's last frame to its own first frame: each child of a division, and a track whose parent
    ended frames before it began (CTC's parent link across missing frames: a gap closed). Ids are
    ``segment_id(t, label)``.
    """
    from neotrack.store import segment_id

    src_t: list[np.ndarray] = []
    src_l: list[np.ndarray] = []
    dst_t: list[np.ndarray] = []
    dst_l: list[np.ndarray] = []
    for label, begin, end, _ in tracks[["L", "B", "E", "P"]].to_numpy(dtype=np.int64):
        frames = np.arange(begin, end)
        src_t.append(frames)
        dst_t.append(frames + 1)
        src_l.append(np.full(frames.size, label))
        dst_l.append(np.full(frames.size, label))
    ends = dict(zip(tracks["L"], tracks["E"], strict=True))
    children = tracks[(tracks["P"] > 0) & tracks["P"].isin(list(ends))]
    for label, begin, parent in children[["L", "B", "P"]].to_numpy(dtype=np.int64):
        if ends[parent] < begin:  # (a parent that ends later contradicts the file: no link)
            src_t.append(np.array([ends[parent]]))
            dst_t.append(np.array([begin]))
            src_l.append(np.array([parent]))
            dst_l.append(np.array([label]))

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    return pd.DataFrame(
        {"source": segment_id(cat(src_t), cat(src_l)), "target": segment_id(cat(dst_t), cat(dst_l))}
    )

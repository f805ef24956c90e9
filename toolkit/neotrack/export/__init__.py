"""Lineages out of the graph (CTC, ilastik h5 and CSV, napari, networkx, zarr, geff) and back in."""

from neotrack.export._ctc import to_ctc, track_table
from neotrack.export._h5 import import_h5_events, read_h5_events, to_h5_events
from neotrack.export._importing import import_ctc, read_ctc
from neotrack.export._tables import (
    divisions_table,
    mergers_table,
    objects_table,
    to_csv,
    to_napari,
    to_networkx,
)
from neotrack.export._volumes import to_geff, to_zarr

__all__ = [
    "divisions_table",
    "import_ctc",
    "import_h5_events",
    "mergers_table",
    "objects_table",
    "read_ctc",
    "read_h5_events",
    "to_csv",
    "to_ctc",
    "to_geff",
    "to_h5_events",
    "to_napari",
    "to_networkx",
    "to_zarr",
    "track_table",
]

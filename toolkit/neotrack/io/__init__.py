"""Reading time-lapses lazily, frame by frame: TIFF folders and stacks, zarr, HDF5, arrays."""

from neotrack.io._crop import CroppedSource, crop
from neotrack.io._open import open_images
from neotrack.io._sources import (
    ArraySource,
    FrameSource,
    Hdf5Source,
    NpySource,
    TiffFolder,
    TiffStack,
    ZarrSource,
)

__all__ = [
    "ArraySource",
    "CroppedSource",
    "FrameSource",
    "Hdf5Source",
    "NpySource",
    "TiffFolder",
    "TiffStack",
    "ZarrSource",
    "crop",
    "open_images",
]

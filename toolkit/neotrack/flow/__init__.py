"""Flow fields with JAX: follow fast or coherently moving cells by shifting candidates before linking."""

from neotrack.flow._field import flow_field
from neotrack.flow._timelapse import (
    add_flow,
    advect_from_quasi_random,
    sample_flow,
    timelapse_flow,
    tracks_df_movement,
    trajectories_to_tracks,
)

__all__ = [
    "add_flow",
    "advect_from_quasi_random",
    "flow_field",
    "sample_flow",
    "timelapse_flow",
    "tracks_df_movement",
    "trajectories_to_tracks",
]

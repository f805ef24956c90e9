"""One configuration object (pydantic, TOML round trip) whose sections mirror ultrack's."""

from neotrack.config._config import Config
from neotrack.config._sections import (
    DataConfig,
    FlowConfig,
    LinkingConfig,
    PreprocessingConfig,
    SegmentationConfig,
    TrackingConfig,
)

__all__ = [
    "Config",
    "DataConfig",
    "FlowConfig",
    "LinkingConfig",
    "PreprocessingConfig",
    "SegmentationConfig",
    "TrackingConfig",
]

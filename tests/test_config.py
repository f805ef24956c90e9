"""The configuration: TOML round trip, unknown keys refused, and every field read by the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from neotrack.config import Config
from neotrack.errors import InputError

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit" / "neotrack"


def test_toml_round_trip(tmp_path: Path) -> None:
    config = Config()
    config.data.voxel_size = (2.0, 0.5, 0.5)
    config.data.axes = "TZYX"
    config.preprocessing.prob_low_threshold = 0.3
    config.segmentation.ws_hierarchy = "dynamics"
    config.save(tmp_path / "c.toml")
    assert Config.load(tmp_path / "c.toml") == config
    assert Config.load(tmp_path / "c.toml").data.axes == "tzyx"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[segmentation]\nmin_aera = 5\n", "unknown setting 'segmentation.min_aera'"),
        ("[segmentation]\nmin_area = 500\nmax_area = 100\n", "max_area"),
        ("[linking_typo]\n", "unknown setting 'linking_typo'"),
        ("[data]\naxes = 'zyx'\n", "include t"),
        ("[segmentation\n", "not valid TOML"),
        ("[segmentation]\nthreshold = nan\n", "segmentation.threshold: expected a finite number, got nan"),
        ("[tracking]\ntime_limit = inf\n", "tracking.time_limit: expected a finite number, got inf"),
        ("[tracking]\noverlap_size = 0\n", "tracking.overlap_size"),
        ("[data]\nvoxel_size = [1.0, -inf]\n", "data.voxel_size: expected a finite number, got -inf"),
        ("[preprocessing]\nsmooth_sigma = [1.0, nan]\n", "preprocessing.smooth_sigma: expected a finite"),
        ("[segmentation]\nthreshold = true\n", "segmentation.threshold: expected a number, got true"),
        ("[segmentation]\nmin_area = false\n", "segmentation.min_area: expected a number, got false"),
        ("[data]\nvoxel_size = [true, 1.0]\n", "data.voxel_size: expected a number, got true"),
        ("[preprocessing]\nsmooth_sigma = true\n", "preprocessing.smooth_sigma: expected a number, got true"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        Config.load(tmp_path / "c.toml")
    assert str(tmp_path / "c.toml") in str(info.value) and "\n" not in str(info.value)


def test_numbers_bools_and_tuples_that_are_fine_still_load(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(
        "[data]\nvoxel_size = [2, 1, 1]\n[segmentation]\nthreshold = 1\n"
        "[preprocessing]\nremove_hist_mode = true\nsmooth_sigma = [1, 0.5]\n"
    )
    config = Config.load(tmp_path / "c.toml")
    assert config.data.voxel_size == (2.0, 1.0, 1.0) and config.segmentation.threshold == 1.0
    assert config.preprocessing.remove_hist_mode is True and config.preprocessing.smooth_sigma == (1.0, 0.5)


def test_assignments_are_checked_like_files() -> None:
    config = Config()
    with pytest.raises(ValueError, match="expected a finite number"):
        config.segmentation.threshold = float("nan")
    with pytest.raises(ValueError, match="expected a number, got true"):
        config.linking.max_distance = True
    config.linking.register_frames = True


def test_config_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_bytes(b"[segmentation]\nthreshold = 0.5 # \xff\xfe\n")
    with pytest.raises(InputError, match="is not UTF-8 text") as info:
        Config.load(tmp_path / "c.toml")
    assert str(tmp_path / "c.toml") in str(info.value) and "\n" not in str(info.value)


def test_every_field_is_read_somewhere() -> None:
    """ultrack carries fields nothing reads; here each one is used outside the config package."""
    code = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py") if "config" not in p.parts)
    for section_name in Config.model_fields:
        for field in type(getattr(Config(), section_name)).model_fields:
            assert re.search(rf"\.{field}\b", code), f"{section_name}.{field} is never read"

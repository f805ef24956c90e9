"""The store against the real local Neo4j: round trips, windows, isolation, atomic batches, errors."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from neotrack.errors import (
    DatabaseUnavailableError,
    DatasetExistsError,
    DatasetNotFoundError,
    InputError,
    QueryError,
)
from neotrack.store import Store, segment_id
from scenes import chain_links, grid_segments


def test_segments_round_trip_with_features(store: Store, dataset: str) -> None:
    segments = grid_segments(4, 5)
    assert store.write_segments(dataset, segments) == 20
    back = store.read_segments(dataset, extra=["intensity_mean"])
    pd.testing.assert_frame_equal(back, segments.sort_values("id", ignore_index=True), check_like=True)


def test_window_holds_only_its_frames_and_inner_links(store: Store, dataset: str) -> None:
    segments = grid_segments(6, 4)
    links = chain_links(segments)
    store.write_segments(dataset, segments)
    store.write_links(dataset, links)
    store.write_hierarchy(
        dataset, pd.DataFrame({"parent": segment_id([2, 2], [1, 1]), "child": segment_id([2, 2], [2, 3])})
    )
    window = store.read_window(dataset, 2, 4)
    assert sorted(set(window.segments["t"])) == [2, 3]
    inside = links[(links.source // 10**9 == 2)].sort_values(["source", "target"], ignore_index=True)
    pd.testing.assert_frame_equal(window.links, inside[["source", "target", "weight"]])
    with_iou = store.read_links(dataset, 2, 4, extra=["iou"])
    np.testing.assert_allclose(with_iou.iou, inside.iou)
    assert window.hierarchy.to_numpy().tolist() == [
        [2 * 10**9 + 1, 2 * 10**9 + 2],
        [2 * 10**9 + 1, 2 * 10**9 + 3],
    ]
    assert store.time_range(dataset) == (0, 5, 24)


def test_datasets_are_isolated_and_deletion_touches_nothing_else(store: Store) -> None:
    names = [f"iso-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    segments = grid_segments(3, 3)
    try:
        for i, name in enumerate(names):
            store.create_dataset(name)
            store.write_segments(dataset=name, table=segments.assign(y=segments.y + i))
            store.write_links(name, chain_links(segments))
        first = store.read_segments(names[0])
        assert np.allclose(store.read_segments(names[1]).y, first.y + 1)  # same ids, own values
        assert store.delete_dataset(names[1]) == 9
        assert not store.has_dataset(names[1])
        pd.testing.assert_frame_equal(store.read_segments(names[0]), first)
        assert len(store.read_links(names[0])) == len(chain_links(segments))
        stray = store.query("MATCH (s:Segment {dataset: $d}) RETURN count(s) AS n", d=names[1])
        assert stray.n[0] == 0
    finally:
        for name in names:
            if store.has_dataset(name):
                store.delete_dataset(name)


def test_largest_track_id_is_the_dataset_s_own(store: Store) -> None:
    names = [f"tracks-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    segments = grid_segments(3, 4)
    try:
        for name, top in zip(names, (7, 900), strict=True):
            store.create_dataset(name)
            store.write_segments(name, segments)
            assert store.max_track_id(name) == 0  # no solution yet
            ids = segments.id.iloc[:5]
            tracks = np.array([1, 3, top, 2, 5])
            store.write_tracks(
                name,
                pd.DataFrame({"id": ids, "track_id": tracks, "parent_track_id": 0, "lineage_id": tracks}),
            )
        assert [store.max_track_id(name) for name in names] == [7, 900]
    finally:
        for name in names:
            if store.has_dataset(name):
                store.delete_dataset(name)


@pytest.mark.parametrize("writers", [1, 2])
def test_a_batch_failing_half_way_leaves_nothing_of_itself(store: Store, dataset: str, writers: int) -> None:
    stored = grid_segments(1, 5)
    store.write_segments(dataset, stored)
    new = grid_segments(3, 10).iloc[5:30].reset_index(drop=True)  # frame 0 k>5, frames 1 and 2
    new.loc[15, ["id", "t"]] = [stored.id[2], 0]  # row 15 (2nd batch) collides with a stored id
    small = Store(uri=store.uri, batch_size=10, writers=writers)
    try:
        with pytest.raises(QueryError, match="nothing of this batch was written"):
            small.write_segments(dataset, new)
    finally:
        small.close()
    ids = set(store.read_segments(dataset).id)
    failed = set(new.id[10:20]) - {stored.id[2]}
    assert not ids & failed  # nothing of the failed batch, not even its rows before the clash
    assert set(new.id[:10]) <= ids  # the first batch committed
    if writers == 1:
        assert not ids & set(new.id[20:])  # no batch is started after a failure
        assert len(ids) == 15


def test_links_to_missing_segments_roll_back_their_batch(store: Store, dataset: str) -> None:
    segments = grid_segments(2, 3)
    store.write_segments(dataset, segments)
    links = chain_links(segments)
    links.loc[len(links) - 1, "target"] = segment_id(1, 99)
    with pytest.raises(QueryError, match="not stored"):
        store.write_links(dataset, links)
    assert len(store.read_links(dataset)) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.assign(id=df.id.where(df.index != 3, df.id[0])), "repeats"),
        (lambda df: df.assign(t=df.t + 1), "does not encode its frame"),
        (lambda df: df.assign(y=df.y.where(df.index != 2, np.nan)), "NaN"),
        (lambda df: df.drop(columns="area"), "lacks column"),
        (lambda df: df.assign(dataset="other"), "reserved"),
    ],
)
def test_bad_segment_tables_are_refused_before_writing(
    store: Store, dataset: str, change, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        store.write_segments(dataset, change(grid_segments(2, 4)))
    assert store.time_range(dataset)[2] == 0


def test_links_must_go_forward_one_frame(store: Store, dataset: str) -> None:
    with pytest.raises(InputError, match="from frame t to t\\+1"):
        store.write_links(
            dataset, {"source": [segment_id(0, 1)], "target": [segment_id(2, 1)], "weight": [0.5]}
        )


def test_user_values_are_parameters_not_query_text(store: Store) -> None:
    name = "x'}) DETACH DELETE s //" + uuid.uuid4().hex[:6]
    try:
        store.create_dataset(name, source="a 'quoted' path")
        store.write_segments(name, grid_segments(1, 2))
        assert store.dataset(name)["source"] == "a 'quoted' path"
        assert store.list_datasets().set_index("name").loc[name, "segments"] == 2
    finally:
        store.delete_dataset(name)


def test_query_returns_a_dataframe_with_node_properties(store: Store, dataset: str) -> None:
    store.write_segments(dataset, grid_segments(2, 3))
    df = store.query(
        "MATCH (s:Segment {dataset: $d}) WHERE s.t = $t RETURN s ORDER BY s.id", d=dataset, t=np.int64(1)
    )
    assert list(df.columns) == ["s"]
    assert [row["id"] for row in df.s] == [10**9 + 1, 10**9 + 2, 10**9 + 3]
    with pytest.raises(QueryError, match="syntax"):
        store.query("MATCH (n RETURN n")


def test_dataset_lifecycle_errors(store: Store, dataset: str) -> None:
    with pytest.raises(DatasetExistsError, match="--overwrite"):
        store.create_dataset(dataset)
    store.write_segments(dataset, grid_segments(1, 2))
    store.create_dataset(dataset, overwrite=True, ndim=3)
    assert store.time_range(dataset)[2] == 0
    assert store.dataset(dataset)["ndim"] == 3
    with pytest.raises(DatasetNotFoundError, match="datasets list"):
        store.read_segments("no-such-dataset-" + uuid.uuid4().hex)
    with pytest.raises(DatasetNotFoundError):
        store.write_segments("no-such-dataset-" + uuid.uuid4().hex, grid_segments(1, 1))


def test_bad_uri_is_one_clear_line() -> None:
    with pytest.raises(InputError, match="bad Neo4j URI 'http://") as info:
        Store(uri="http://localhost:7474")
    assert "\n" not in str(info.value)


def test_unreachable_server_is_one_clear_line() -> None:
    from conftest import free_port

    with pytest.raises(DatabaseUnavailableError, match="neotrack db start") as info:
        Store(uri=f"bolt://127.0.0.1:{free_port()}")
    assert "\n" not in str(info.value)

"""sluice.Project against the real example project and the real binary as the oracle."""

import json
import threading

import numpy as np
import pandas as pd
import pytest

import sluice
from conftest import run


def lake_object(project_dir, sha):
    return project_dir / ".sluice" / "lake" / "objects" / sha[:2] / sha


def test_training_set_equals_the_stored_files(project_dir):
    p = sluice.Project(project_dir)
    df = p.training_set("fraud_train")
    m = p.last_manifest
    assert df.attrs["sluice_version"] == m["id"]
    # The columns, in order, are the version's schema.
    assert list(df.columns) == [name for name, _type, _nullable in m["schema"]]
    assert len(df) == m["rows_loaded"] > 0
    types = {name: t for name, t, _ in m["schema"]}
    for name in df.columns:
        kind = df[name].dtype.kind if hasattr(df[name].dtype, "kind") else ""
        if types[name] == "timestamp":
            assert str(df[name].dtype) == "datetime64[ns]", name
        elif types[name] == "double":
            assert df[name].dtype == np.float64, name
        elif types[name] == "int64":
            assert str(df[name].dtype) in ("int64", "Int64"), name
        elif types[name] == "bool":
            assert str(df[name].dtype) in ("bool", "boolean"), name
        elif types[name] == "string":
            assert kind == "O", name

    # The oracle: the same version's CSV file, read by pandas.
    csv = next(o for o in m["outputs"] if o["name"].endswith(".csv"))
    expected = pd.read_csv(lake_object(project_dir, csv["sha256"]), float_precision="round_trip")
    assert list(expected.columns) == list(df.columns)
    assert len(expected) == len(df)
    for name in df.columns:
        got, want = df[name], expected[name]
        if types[name] == "timestamp":
            want = pd.to_datetime(want, utc=True).dt.tz_localize(None)
            assert (got.isna() == want.isna()).all(), name
            assert (got[got.notna()] == want[want.notna()]).all(), name
        elif types[name] == "double":
            np.testing.assert_array_equal(got.to_numpy(), want.to_numpy(dtype=np.float64),
                                          err_msg=name)
        else:
            assert got.isna().equals(want.isna()), name
            assert (got[got.notna()].astype(str).tolist() ==
                    want[want.notna()].astype(str).tolist()), name


def test_rebuild_goes_through_the_engine_and_is_reproducible(project_dir):
    p = sluice.Project(project_dir)
    before = p.training_set("fraud_train")
    version = p.last_manifest["id"]
    again = p.training_set("fraud_train", rebuild=True)
    assert p.last_manifest["id"] == version  # same inputs and definition: the same version
    pd.testing.assert_frame_equal(before, again)


def test_versions_match_the_cli(project_dir):
    p = sluice.Project(project_dir)
    versions = p.versions("transactions")
    assert versions, "transactions has versions"
    cur = versions[-1]
    assert cur["rows_read"] == cur["rows_loaded"] + cur["rows_quarantined"]
    assert cur["bytes"] == sum(o["bytes"] for o in cur["outputs"])
    listing = run("versions", "-p", str(project_dir), "transactions")
    assert cur["id"][:12] in listing
    ts = p.versions("fraud_train")[-1]
    assert ts["kind"] == "training_set" and ts["parents"]


def test_lineage_names_the_versions_a_training_set_came_from(project_dir):
    p = sluice.Project(project_dir)
    ts = p.versions("fraud_train")[-1]
    edges = p.lineage("fraud_train")
    assert edges
    assert all(ts["id"] in (e["from"], e["to"]) for e in edges)
    into = {e["from"] for e in edges if e["to"] == ts["id"]}
    assert set(ts["parents"]) <= into
    assert p.lineage(ts["id"][:10]) == edges  # a prefix names the same version
    assert p.lineage("file:no-such-input") == []


def test_online_features_equal_the_cli_and_the_training_path(project_dir, newest_event):
    p = sluice.Project(project_dir)
    users = pd.read_csv(project_dir / "data" / "users.csv")["user_id"].head(3).tolist()
    results = p.get_online_features("user_spend", [{"user_id": u} for u in users],
                                    at=newest_event)
    assert [r["entity"]["user_id"] for r in results] == users
    for u, r in zip(users, results):
        cli = json.loads(run("get", "-p", str(project_dir), "user_spend", str(u), "--at",
                             newest_event))
        assert {"user_spend:" + k: v for k, v in cli["features"].items()} == r["features"]
    svc = p.get_online_features("fraud_model", {"user_id": users[0]}, at=newest_event)
    assert sorted(svc[0]["features"]) == ["user_spend:amount_sum_24h",
                                          "user_spend:spend_ratio_1h_30d",
                                          "user_spend:txn_count_1h"]
    # A datetime works as `at` too.
    as_dt = p.get_online_features("user_spend", {"user_id": users[0]},
                                  at=pd.Timestamp(newest_event).to_pydatetime())
    assert as_dt[0]["features"] == results[0]["features"]


def test_errors_are_python_exceptions_with_sluices_message(project_dir, tmp_path):
    with pytest.raises(sluice.Error, match="sluice.yaml"):
        sluice.Project(tmp_path / "missing")
    p = sluice.Project(project_dir)
    with pytest.raises(sluice.Error, match="no training set 'nope'"):
        p.training_set("nope")
    with pytest.raises(sluice.Error, match="no_such_dataset"):
        p.versions("no_such_dataset")
    with pytest.raises(sluice.Error, match="no feature view or feature service 'nope'"):
        p.get_online_features("nope", {"user_id": 1})
    with pytest.raises(sluice.Error, match="user_id"):
        p.get_online_features("user_spend", {"card": 1})
    with pytest.raises(sluice.Error, match="already holds events after 2000-01-01"):
        p.get_online_features("user_spend", {"user_id": 1}, at="2000-01-01T00:00:00Z")
    # The project is still usable after errors.
    assert p.versions("users")


def test_calls_from_several_threads(project_dir, newest_event):
    p = sluice.Project(project_dir)
    errors, frames = [], []

    def work():
        try:
            frames.append(len(p.training_set("fraud_train")))
            p.get_online_features("user_spend", {"user_id": 1}, at=newest_event)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(frames)) == 1


def test_the_gil_is_released_while_the_engine_works(project_dir):
    """With the interpreter's switch interval made huge, another thread gets the GIL only when
    the running one gives it up. So the main thread runs while a rebuild is still in progress
    only if the extension released the GIL around the engine call."""
    import sys
    p = sluice.Project(project_dir)
    done = []

    def rebuild():
        p._p.training_set("fraud_train", True)
        done.append(True)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        t = threading.Thread(target=rebuild)
        t.start()  # returns once the main thread holds the GIL again
        finished_before_main_ran = bool(done)
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert done
    assert not finished_before_main_ran

"""sluice.Client against a real `sluice serve` on a free loopback port."""

import os
import subprocess
import sys

import pandas as pd
import pytest

import sluice


def users(project_dir, n=3):
    return pd.read_csv(project_dir / "data" / "users.csv")["user_id"].head(n).tolist()


def test_client_reads_what_the_in_process_path_reads(project_dir, server, newest_event):
    client = sluice.Client(server.url, token="s3cret-token")
    assert client.health()
    assert client.ready()
    ids = users(project_dir)
    over_http = client.get_online_features([{"user_id": u} for u in ids], view="user_spend",
                                           at=newest_event)
    in_process = sluice.Project(project_dir).get_online_features(
        "user_spend", [{"user_id": u} for u in ids], at=newest_event)
    assert over_http == in_process
    svc = client.get_online_features({"user_id": ids[0]}, service="fraud_model",
                                     features=None, at=newest_event)
    assert len(svc[0]["features"]) == 3


def test_client_errors_carry_the_servers_message(project_dir, server, newest_event):
    good = sluice.Client(server.url, token="s3cret-token")
    with pytest.raises(sluice.ClientError) as e:
        sluice.Client(server.url, token="wrong").get_online_features({"user_id": 1},
                                                                     view="user_spend")
    assert e.value.status == 401 and "bearer token is not valid" in str(e.value)
    with pytest.raises(sluice.ClientError) as e:
        sluice.Client(server.url).get_online_features({"user_id": 1}, view="user_spend")
    assert e.value.status == 401 and "Authorization" in str(e.value)
    with pytest.raises(sluice.ClientError) as e:
        good.get_online_features({"user_id": 1}, view="no_such_view")
    assert e.value.status == 400 and "no feature view 'no_such_view'" in str(e.value)
    with pytest.raises(sluice.ClientError) as e:
        good.get_online_features({"card": 1}, view="user_spend")
    assert e.value.status == 400 and "user_id" in str(e.value)
    with pytest.raises(ValueError):
        good.get_online_features({"user_id": 1})
    # Nothing listens on port 9 of loopback (discard, never run in tests).
    with pytest.raises(sluice.ClientError) as e:
        sluice.Client("http://127.0.0.1:9", timeout=2).health()
    assert e.value.status == 0 and "cannot reach" in str(e.value)


def test_example_trains_a_model_and_scores_through_the_client(project_dir, server):
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "..", "..", "examples", "fraud", "train_model.py")
    env = dict(os.environ, SLUICE_TOKEN="s3cret-token")
    proc = subprocess.run([sys.executable, script, "--project", str(project_dir), "--url",
                           server.url, "--token-env", "SLUICE_TOKEN"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "trained on" in proc.stdout
    assert "scored" in proc.stdout

"""Fixtures: the example project (sluice init) with a little demo data, ingested, built, with a
training set and a materialized online store, made once per test session by the real binary."""

import os
import pathlib
import re
import signal
import subprocess
import time

import pytest


def sluice_bin():
    path = os.environ.get("SLUICE_BIN")
    if not path:
        pytest.fail("SLUICE_BIN is not set (ctest sets it; see python/CMakeLists.txt)")
    return path


def run(*args, **kwargs):
    proc = subprocess.run([sluice_bin(), *args], capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"sluice {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc.stdout


@pytest.fixture(scope="session")
def project_dir(tmp_path_factory):
    p = tmp_path_factory.mktemp("sluice") / "fraud"
    run("init", str(p))
    run("demo-data", "-p", str(p), "--transactions", "3000", "--formats", "csv")
    run("ingest", "-p", str(p))
    run("build", "-p", str(p))
    run("training-set", "-p", str(p), "fraud_train")
    run("materialize", "-p", str(p))
    return p


@pytest.fixture(scope="session")
def newest_event(project_dir):
    """The newest transaction time: online reads as of then see every event."""
    import pandas as pd
    t = pd.read_csv(project_dir / "data" / "transactions.csv", usecols=["ts"])["ts"].max()
    return t


class Server:
    def __init__(self, project, env_token=None):
        env = dict(os.environ)
        args = [sluice_bin(), "serve", "-p", str(project), "--address", "127.0.0.1:0",
                "--threads", "1"]
        if env_token is not None:
            env["SLUICE_TEST_TOKEN"] = env_token
            args += ["--token-env", "SLUICE_TEST_TOKEN"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        line = self.proc.stdout.readline()  # the first line names the port
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"sluice serve did not start: {line}{self.proc.stderr.read()}")
        self.url = m.group(1)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()


@pytest.fixture(scope="session")
def server(project_dir):
    s = Server(project_dir, env_token="s3cret-token")
    yield s
    assert s.stop() == 0

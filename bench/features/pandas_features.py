#!/usr/bin/python3
"""pandas reference for the feature benchmark (bench/features/run.sh).

The way a Python feature pipeline computes point-in-time windowed features today: put the events
and the spine rows in one frame, sort by (user, time) with events before spine rows at the same
instant, and let groupby-rolling with a time window closed on the right, (t - w, t], sum an
"is event" flag (count) and the amount (sum) over 1h, 24h and 7d. A spine row keeps its own
values; an empty window gives count 0 and sum NULL, as in sluice.

    pandas_features.py TRANSACTIONS_CSV SPINE_CSV OUT_CSV

Prints one line on stdout: `pandas: load S s, features S s, write S s`. The output has the column
names of sluice's training set (spine_id, tx__txn_count_1h, ...), ordered by spine_id.
"""
import sys
import time

import numpy as np
import pandas as pd

WINDOWS = [("1h", "1h"), ("24h", "24h"), ("7d", "7d")]


def main():
    tx_path, spine_path, out_path = sys.argv[1:4]
    t0 = time.perf_counter()
    tx = pd.read_csv(tx_path, usecols=["user_id", "amount", "ts"])
    tx["ts"] = pd.to_datetime(tx["ts"], utc=True)
    spine = pd.read_csv(spine_path, usecols=["spine_id", "user_id", "ts"])
    spine["ts"] = pd.to_datetime(spine["ts"], utc=True)
    t1 = time.perf_counter()

    events = pd.DataFrame({
        "user_id": tx["user_id"].to_numpy(),
        "ts": tx["ts"],
        "is_event": np.ones(len(tx)),
        "amount": tx["amount"].to_numpy(dtype=float),
        "kind": np.zeros(len(tx), dtype=np.int8),  # events sort before spine rows at equal ts
        "spine_id": np.full(len(tx), -1, dtype=np.int64),
    })
    rows = pd.DataFrame({
        "user_id": spine["user_id"].to_numpy(),
        "ts": spine["ts"],
        "is_event": np.zeros(len(spine)),
        "amount": np.zeros(len(spine)),
        "kind": np.ones(len(spine), dtype=np.int8),
        "spine_id": spine["spine_id"].to_numpy(dtype=np.int64),
    })
    u = pd.concat([events, rows], ignore_index=True)
    u = u.sort_values(["user_id", "ts", "kind"], kind="mergesort").reset_index(drop=True)
    is_spine = (u["kind"] == 1).to_numpy()
    out = pd.DataFrame({"spine_id": u["spine_id"].to_numpy()[is_spine]})
    grouped = u.groupby("user_id", sort=False)
    for label, window in WINDOWS:
        r = grouped.rolling(window, on="ts", closed="right")[["is_event", "amount"]].sum()
        # With `on`, the result is indexed by (user_id, ts), in group order: u is sorted by
        # user, so its rows are already in u's row order.
        count = r["is_event"].to_numpy()[is_spine]
        total = r["amount"].to_numpy()[is_spine]
        out["tx__txn_count_" + label] = np.rint(count).astype(np.int64)
        out["tx__amount_sum_" + label] = np.where(count > 0.5, total, np.nan)
    out = out.sort_values("spine_id").reset_index(drop=True)
    t2 = time.perf_counter()
    cols = ["spine_id"] + ["tx__txn_count_" + w for w, _ in WINDOWS] + \
        ["tx__amount_sum_" + w for w, _ in WINDOWS]
    out[cols].to_csv(out_path, index=False, float_format="%.17g")
    t3 = time.perf_counter()
    print(f"pandas: load {t1 - t0:.2f} s, features {t2 - t1:.2f} s, write {t3 - t2:.2f} s")


if __name__ == "__main__":
    main()

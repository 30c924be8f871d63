"""The pandas + SciPy side of bench/quality: the same profile and drift statistics sluice computes,
on the same CSV files, timed without the CSV parsing. Prints one JSON object.

  pandas_scipy.py REF_CSV CUR_CSV SLUICE_DRIFT_JSON [SLUICE_PROFILE_JSON]
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

ref_csv, cur_csv, sluice_json = sys.argv[1:4]
categorical = {f"c{i}": "category" for i in range(10)}
t0 = time.perf_counter()
ref = pd.read_csv(ref_csv, dtype=categorical, engine="c")
cur = pd.read_csv(cur_csv, dtype=categorical, engine="c")
read_s = time.perf_counter() - t0

# Profile of the reference: what `sluice profile` reports per column.
t0 = time.perf_counter()
profile = {}
for col in ref.columns:
    s = ref[col]
    p = {"count": s.count(), "nulls": s.isna().sum(), "distinct": s.nunique()}
    if col.startswith("x"):
        x = s.dropna().to_numpy()
        p.update(mean=x.mean(), stddev=x.std(ddof=1), min=x.min(), max=x.max())
        p["quantiles"] = np.percentile(x, [1, 5, 25, 50, 75, 95, 99])
        p["histogram"] = np.histogram(x, bins=20, range=(x.min(), x.max()))[0]
    else:
        top = s.value_counts().head(10)
        p["top"] = list(zip(top.index.astype(str), top.to_numpy()))
    profile[col] = p
profile_s = time.perf_counter() - t0

# Drift, Evidently's default rule for > 1000 reference rows: normalized Wasserstein for numbers,
# Jensen-Shannon over values for categories.
t0 = time.perf_counter()
result = {}
for col in ref.columns:
    r, c = ref[col].dropna(), cur[col].dropna()
    if col.startswith("x"):
        r, c = r.to_numpy(), c.to_numpy()
        result[col] = stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)
    else:
        rc, cc = r.value_counts(), c.value_counts()
        keys = sorted(set(rc.index) | set(cc.index))
        rp = np.array([rc.get(k, 0) for k in keys]) / len(r)
        cp = np.array([cc.get(k, 0) for k in keys]) / len(c)
        result[col] = float(distance.jensenshannon(rp, cp))
drift_s = time.perf_counter() - t0

got = {c["name"]: c["statistic"] for c in json.load(open(sluice_json))["columns"]}
worst = max(abs(got[k] - v) / max(abs(v), 1e-12) for k, v in result.items())

# The profile against pandas/numpy: the largest relative difference of a number, and the count
# of exact fields (counts, distinct, histogram bins, top values) that differ.
profile_worst, profile_mismatches = 0.0, 0
if len(sys.argv) > 4:
    mine = {c["name"]: c for c in json.load(open(sys.argv[4]))["columns"]}
    for col, p in profile.items():
        c = mine[col]
        profile_mismatches += sum(int(c[k] != int(p[k])) for k in ("count", "nulls", "distinct"))
        if "mean" in p:
            pairs = [(c[k], float(p[k])) for k in ("mean", "stddev", "min", "max")]
            pairs += zip(c["quantiles"].values(), map(float, p["quantiles"]))
            for a, b in pairs:
                profile_worst = max(profile_worst, abs(a - b) / max(abs(b), 1e-12))
            profile_mismatches += int([b["count"] for b in c["histogram"]] != p["histogram"].tolist())
        else:
            # pandas breaks count ties in no fixed order; sluice by value: compare counts, and
            # values where the count is unique.
            want = [(v, int(n)) for v, n in p["top"]]
            have = [(t["value"], t["count"]) for t in c["top"]]
            counts = [n for _, n in want]
            profile_mismatches += int([n for _, n in have] != counts)
            profile_mismatches += sum(int(h != w) for h, w in zip(have, want)
                                      if counts.count(w[1]) == 1)
print(json.dumps({"read_s": read_s, "profile_s": profile_s, "drift_s": drift_s,
                  "max_relative_difference": worst,
                  "profile_max_relative_difference": profile_worst,
                  "profile_mismatches": profile_mismatches}))

"""The pandas + SciPy side of bench/quality: the same profile and drift statistics sluice computes,
on the same CSV files, timed without the CSV parsing. Prints one JSON object.

  pandas_scipy.py REF_CSV CUR_CSV SLUICE_DRIFT_JSON
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
for col in ref.columns:
    s = ref[col]
    s.count(), s.isna().sum(), s.nunique()
    if col.startswith("x"):
        x = s.dropna().to_numpy()
        x.mean(), x.std(ddof=1), x.min(), x.max()
        np.percentile(x, [1, 5, 25, 50, 75, 95, 99])
        np.histogram(x, bins=20, range=(x.min(), x.max()))
    else:
        s.value_counts().head(10)
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
print(json.dumps({"read_s": read_s, "profile_s": profile_s, "drift_s": drift_s,
                  "max_relative_difference": worst}))

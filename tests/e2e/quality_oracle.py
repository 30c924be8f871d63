"""Oracles for tests/e2e/quality_test.sh: data generation, and numpy/pandas/SciPy answers.

  quality_oracle.py gen DIR             writes ref.csv, cur.csv, small.csv, shifted.csv, empty.csv
  quality_oracle.py profile CSV JSON    checks `sluice profile --json` output against pandas
  quality_oracle.py drift REF CUR JSON [FROM TO]
                                        checks `sluice drift --json` against SciPy (Evidently's
                                        default rule), optionally on the current rows in [FROM, TO)
"""
import json
import math
import sys

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

LEVELS = [1, 5, 25, 50, 75, 95, 99]
NUMERIC = ["amount", "score", "n_items", "label"]
CATEGORICAL = ["country", "flag"]


def gen(out):
    rng = np.random.default_rng(1234)

    def frame(n, amount_mean, country_p, start, null_every=0, seconds=86400 * 3):
        df = pd.DataFrame({
            "id": np.arange(n),
            "amount": np.round(rng.normal(amount_mean, 15.0, n), 4),
            "score": rng.uniform(0, 1, n),
            "n_items": rng.integers(0, 5, n),
            "country": rng.choice(["DE", "FR", "NL", "US"], n, p=country_p),
            "flag": rng.choice(["true", "false"], n),
            "label": rng.integers(0, 2, n),
            "ts": pd.to_datetime(start) + pd.to_timedelta(rng.integers(0, seconds, n), unit="s"),
        })
        if null_every:
            df.loc[df.index % null_every == 0, "amount"] = np.nan
        df["ts"] = df["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return df

    frame(2000, 100.0, [0.4, 0.3, 0.2, 0.1], "2026-01-01", null_every=7).to_csv(
        f"{out}/ref.csv", index=False)
    frame(2500, 100.5, [0.4, 0.3, 0.2, 0.1], "2026-01-01").to_csv(f"{out}/cur.csv", index=False)
    frame(800, 100.0, [0.4, 0.3, 0.2, 0.1], "2026-01-01").to_csv(f"{out}/small.csv", index=False)
    frame(3000, 112.0, [0.1, 0.2, 0.3, 0.4], "2026-01-01").to_csv(
        f"{out}/shifted.csv", index=False)
    frame(0, 0.0, [0.25] * 4, "2026-01-01").to_csv(f"{out}/empty.csv", index=False)
    concept = frame(2500, 100.0, [0.4, 0.3, 0.2, 0.1], "2026-01-01")
    concept["label"] = (concept["score"] > 0.5).astype(int)  # the label now follows score
    concept.to_csv(f"{out}/concept.csv", index=False)


def close(a, b, rel, what, errors):
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        if not (a is None and (b is None or (isinstance(b, float) and math.isnan(b)))):
            errors.append(f"{what}: got {a}, expected {b}")
        return
    if abs(a - b) > rel * max(abs(b), 1e-12) + 1e-12:
        errors.append(f"{what}: got {a!r}, expected {b!r}")


def profile(csv, result):
    df = pd.read_csv(csv)
    got = {c["name"]: c for c in json.load(open(result))["columns"]}
    errors = []
    for col in NUMERIC + ["id"]:
        x = df[col].dropna().to_numpy(dtype=float)
        c = got[col]
        if c["count"] != len(x) or c["nulls"] != df[col].isna().sum():
            errors.append(f"{col}: count/nulls {c['count']}/{c['nulls']}")
        if c["distinct"] != df[col].nunique():
            errors.append(f"{col}: distinct {c['distinct']} != {df[col].nunique()}")
        close(c["mean"], float(np.mean(x)), 1e-12, f"{col} mean", errors)
        close(c["stddev"], float(np.std(x, ddof=1)), 1e-9, f"{col} stddev", errors)
        close(c["min"], float(x.min()), 0, f"{col} min", errors)
        close(c["max"], float(x.max()), 0, f"{col} max", errors)
        for level in LEVELS:
            close(c["quantiles"][f"p{level}"], float(np.percentile(x, level)), 1e-12,
                  f"{col} p{level}", errors)
        counts, _ = np.histogram(x, bins=len(c["histogram"]), range=(x.min(), x.max()))
        if [b["count"] for b in c["histogram"]] != counts.tolist():
            errors.append(f"{col}: histogram {[b['count'] for b in c['histogram']]} != {counts}")
    vc = df["country"].value_counts()
    top = got["country"]["top"]
    if [(t["value"], t["count"]) for t in top] != sorted(vc.items(), key=lambda kv: (-kv[1], kv[0])):
        errors.append(f"country top: {top} != {vc.to_dict()}")
    return errors


def expected_drift(ref, cur, col, numeric):
    """Evidently's default test for one column, computed with SciPy."""
    r, c = ref[col].dropna(), cur[col].dropna()
    if numeric:
        r, c = r.astype(float), c.astype(float)
    n_values = pd.concat([r, c]).nunique()
    if len(r) <= 1000:
        if numeric and n_values > 5:
            res = stats.ks_2samp(r, c)
            return "ks", res.statistic, res.pvalue
        if n_values > 2:
            keys = sorted(set(r.unique()) | set(c.unique()))
            rc, cc = r.value_counts(), c.value_counts()
            f_exp = [rc.get(k, 0) * len(c) / len(r) for k in keys]
            f_obs = [cc.get(k, 0) for k in keys]
            res = stats.chisquare(f_obs, f_exp)
            return "chisquare", res.statistic, res.pvalue
        return "ztest", None, None
    if numeric and n_values > 5:
        norm = max(np.std(r), 0.001)
        return "wasserstein", stats.wasserstein_distance(r, c) / norm, None
    if numeric and r.nunique() > 20:
        bins = np.histogram_bin_edges(pd.concat([r, c]).values, bins="sturges")
        rp = np.histogram(r, bins)[0] / len(r)
        cp = np.histogram(c, bins)[0] / len(c)
    else:
        keys = sorted(set(r.unique()) | set(c.unique()))
        rc, cc = r.value_counts(), c.value_counts()
        rp = np.array([rc.get(k, 0) for k in keys]) / len(r)
        cp = np.array([cc.get(k, 0) for k in keys]) / len(c)
    return "jensenshannon", distance.jensenshannon(rp, cp), None


def drift(ref_csv, cur_csv, result, start=None, end=None):
    ref = pd.read_csv(ref_csv, keep_default_na=True)
    cur = pd.read_csv(cur_csv, keep_default_na=True)
    if start:
        ts = pd.to_datetime(cur["ts"])
        cur = cur[(ts >= pd.Timestamp(start, tz="UTC")) & (ts < pd.Timestamp(end, tz="UTC"))]
    got = json.load(open(result))
    cols = {c["name"]: c for c in got["columns"]}
    errors = []
    if got["current_rows"] != len(cur):
        errors.append(f"current_rows {got['current_rows']} != {len(cur)}")
    for col in NUMERIC + CATEGORICAL:
        method, statistic, p = expected_drift(ref, cur, col, col in NUMERIC)
        c = cols[col]
        if c["method"] != method:
            errors.append(f"{col}: method {c['method']} != {method}")
            continue
        if statistic is not None:
            close(c["statistic"], float(statistic), 1e-9, f"{col} statistic", errors)
        if p is not None:
            close(c["p_value"], float(p), 1e-6, f"{col} p_value", errors)
            if c["drifted"] != (p < c["threshold"]):
                errors.append(f"{col}: drifted {c['drifted']} with p {p}")
        elif statistic is not None and c["drifted"] != (statistic >= c["threshold"]):
            errors.append(f"{col}: drifted {c['drifted']} with statistic {statistic}")
    compared = [c for c in got["columns"] if c["method"] != "none"]
    share = sum(c["drifted"] for c in compared) / len(compared)
    close(got["drift_share"], share, 1e-12, "drift_share", errors)
    if got["dataset_drift"] != (share >= 0.5):
        errors.append("dataset_drift")
    return errors


def concept(ref_csv, cur_csv, result):
    """Label rate per feature bin (Sturges bins over both samples, or values), max difference."""
    ref, cur = pd.read_csv(ref_csv), pd.read_csv(cur_csv)
    got = json.load(open(result))["concept"]
    cols = {c["name"]: c for c in got["columns"]}
    errors = []
    for col in ["amount", "score", "n_items", "country"]:
        r = ref[[col, "label"]].dropna()
        c = cur[[col, "label"]].dropna()
        if col in NUMERIC:
            rv, cv = r[col].astype(float), c[col].astype(float)
            all_r, all_c = ref[col].dropna().astype(float), cur[col].dropna().astype(float)
            edges = np.histogram_bin_edges(pd.concat([all_r, all_c]).values, bins="sturges")
            rk = np.clip(np.searchsorted(edges, rv, side="right") - 1, 0, len(edges) - 2)
            ck = np.clip(np.searchsorted(edges, cv, side="right") - 1, 0, len(edges) - 2)
        else:
            rk, ck = r[col].to_numpy(), c[col].to_numpy()
        rg = r.groupby(rk)["label"].agg(["count", "mean"])
        cg = c.groupby(ck)["label"].agg(["count", "mean"])
        both = rg.join(cg, lsuffix="_r", rsuffix="_c", how="inner")
        both = both[(both["count_r"] >= 30) & (both["count_c"] >= 30)]
        want = float((both["mean_c"] - both["mean_r"]).abs().max()) if len(both) else None
        close(cols[col]["statistic"], want, 1e-12, f"concept {col}", errors)
        if want is not None and cols[col]["drifted"] != (want >= 0.1):
            errors.append(f"concept {col}: drifted {cols[col]['drifted']}")
    return errors


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2])
        return
    if cmd == "profile":
        errors = profile(*sys.argv[2:4])
    elif cmd == "concept":
        errors = concept(*sys.argv[2:5])
    else:
        errors = drift(*sys.argv[2:])
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()

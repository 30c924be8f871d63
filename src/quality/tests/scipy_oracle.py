"""SciPy's answers for the cases drift_statistics_test writes: the test oracle.

Reads a JSON list of cases from argv[1]; prints a JSON list of results in the same order.
"""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance


def run(case):
    kind = case["kind"]
    if kind == "samples":
        a = np.array(case["a"], dtype=float)
        b = np.array(case["b"], dtype=float)
        ks = stats.ks_2samp(a, b)
        edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
        return {
            "ks": [float(ks.statistic), float(ks.pvalue)],
            "wasserstein": float(stats.wasserstein_distance(a, b)),
            "std_a": float(np.std(a)),
            "edges": [float(e) for e in edges],
            "hist_a": [int(c) for c in np.histogram(a, edges)[0]],
            "hist_b": [int(c) for c in np.histogram(b, edges)[0]],
        }
    if kind == "kstwo":
        return float(stats.kstwo.sf(case["x"], case["n"]))
    if kind == "chisquare":
        r = stats.chisquare(case["obs"], case["exp"])
        return [float(r.statistic), float(r.pvalue)]
    if kind == "jensenshannon":
        return float(distance.jensenshannon(case["p"], case["q"]))
    raise ValueError(kind)


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    print(json.dumps([run(c) for c in cases]))


if __name__ == "__main__":
    main()

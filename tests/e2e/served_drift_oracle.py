"""Oracle for tests/e2e/served_drift_test.sh: drift of served features against a training set.

  served_drift_oracle.py TRAINING_CSV SERVED_CSV DRIFT_JSON
The reference is the training set's CSV, the current side what the server answered (recorded by
the client from the HTTP responses, not read back from the log); every served feature column is
checked against SciPy with Evidently's default rule (quality_oracle.expected_drift).
"""
import json
import os
import sys

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quality_oracle import close, expected_drift  # noqa: E402


def main():
    ref = pd.read_csv(sys.argv[1])
    cur = pd.read_csv(sys.argv[2])
    got = json.load(open(sys.argv[3]))
    cols = {c["name"]: c for c in got["columns"]}
    errors = []
    if got["current_rows"] != len(cur):
        errors.append(f"current_rows {got['current_rows']} != {len(cur)} served")
    checked = 0
    for col in cur.columns:
        if col not in ref.columns:
            continue
        c = cols.get(col)
        if c is None:
            errors.append(f"{col}: not in the report")
            continue
        method, statistic, p = expected_drift(ref, cur, col, True)
        if c["method"] != method:
            errors.append(f"{col}: method {c['method']} != {method}")
            continue
        if c["current_values"] != cur[col].dropna().shape[0]:
            errors.append(f"{col}: current_values {c['current_values']} != {cur[col].count()}")
        if statistic is not None:
            close(c["statistic"], float(statistic), 1e-9, f"{col} statistic", errors)
        if p is not None:
            close(c["p_value"], float(p), 1e-6, f"{col} p_value", errors)
        checked += 1
    if checked < 8:
        errors.append(f"only {checked} served feature columns compared")
    for e in errors:
        print(e)
    print(f"{checked} served features checked against SciPy")
    sys.exit(1 if errors else 0)


main()

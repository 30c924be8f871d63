#!/usr/bin/python3
"""Train a fraud model on sluice's point-in-time training set and score live users through the
serving API: the notebook path end to end. Run after the demo (`make demo`) with a server up:

    sluice serve -p examples/fraud &
    PYTHONPATH=build/python /usr/bin/python3 examples/fraud/train_model.py \
        --project examples/fraud --url http://127.0.0.1:8080

The model uses the features of the `fraud_model` feature service, so the columns it trains on
are exactly the features the service serves (training-set column `user_spend__x` is served as
`user_spend:x`)."""

import argparse
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import sluice

SERVICE = "fraud_model"
FEATURES = ["user_spend:txn_count_1h", "user_spend:amount_sum_24h",
            "user_spend:spend_ratio_1h_30d"]


def matrix(rows):
    """Feature matrix with missing values as 0 (the model's own choice, made once here)."""
    return np.nan_to_num(np.asarray(rows, dtype=np.float64), nan=0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="examples/fraud")
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--token-env", default=None,
                        help="environment variable holding the server's bearer token")
    parser.add_argument("--users", type=int, default=5, help="users to score online")
    args = parser.parse_args()

    project = sluice.Project(args.project)
    df = project.training_set("fraud_train")
    columns = [f.replace(":", "__") for f in FEATURES]
    x = matrix(df[columns].astype("float64").to_numpy())
    y = df["is_fraud"].astype(bool).to_numpy()
    print(f"training set fraud_train version {df.attrs['sluice_version'][:12]}: "
          f"{len(df)} rows, {int(y.sum())} fraud")

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=7, stratify=y if 0 < y.sum() < len(y) - 1 else None)
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    if 0 < y_test.sum() < len(y_test):
        auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
        print(f"trained on {len(x_train)} rows; held-out ROC AUC {auc:.3f}")
    else:
        print(f"trained on {len(x_train)} rows; the held-out part has one class only")

    token = os.environ.get(args.token_env) if args.token_env else None
    client = sluice.Client(args.url, token=token)
    users = df["user_id"].drop_duplicates().head(args.users).tolist()
    results = client.get_online_features([{"user_id": int(u)} for u in users], service=SERVICE)
    rows = [[r["features"][f]["value"] if r["features"][f]["value"] is not None else np.nan
             for f in FEATURES] for r in results]
    scores = model.predict_proba(matrix(rows))[:, 1]
    for r, s in zip(results, scores):
        print(f"  user {r['entity']['user_id']}: fraud probability {s:.3f}")
    print(f"scored {len(results)} users online through {args.url}")


if __name__ == "__main__":
    main()

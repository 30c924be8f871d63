"""`sluice.Project`: a project's lake, registry and online stores, read in-process through
sluice's own engine (the compiled `_sluice` extension)."""

import datetime
import json

import numpy as np
import pandas as pd

from . import _sluice
from ._sluice import Error


def _column(type_name, values, valid):
    """One stored column as a pandas array. NULLs: NaN for doubles, NaT for times, None for
    strings; int64 and bool columns holding NULLs become pandas' nullable Int64 / boolean."""
    if type_name == "string":
        return pd.array(values, dtype=object)
    if type_name == "double":
        a = np.asarray(values, dtype=np.float64)
        if valid is not None:
            a = a.copy()
            a[~valid] = np.nan
        return a
    if type_name in ("int64", "bool"):
        if valid is None:
            return np.asarray(values)
        if type_name == "int64":
            return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), ~valid)
        return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), ~valid)
    if type_name == "timestamp":  # microseconds since the epoch, UTC
        a = np.asarray(values, dtype=np.int64).astype("datetime64[us]").astype("datetime64[ns]")
    elif type_name == "date":  # days since the epoch
        a = np.asarray(values, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    else:
        raise Error(f"column type {type_name!r} is not supported by the Python package")
    if valid is not None:
        a[~valid] = np.datetime64("NaT")
    return a


def _iso(at):
    if at is None or isinstance(at, str):
        return at
    if isinstance(at, pd.Timestamp):
        at = at.to_pydatetime()
    if isinstance(at, datetime.datetime):
        if at.tzinfo is not None:
            at = at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return at.isoformat() + "Z"
    raise TypeError(f"at must be None, an ISO-8601 string or a datetime, not {type(at).__name__}")


class Project:
    """A sluice project folder (the one holding sluice.yaml), opened in-process.

    Errors from sluice (a bad project, a missing dataset, a refused look-up) raise
    `sluice.Error` with sluice's own message."""

    def __init__(self, path="."):
        self._p = _sluice._Project(str(path))
        self._defs = self._p.definitions()
        self.last_manifest = None

    @property
    def name(self):
        return self._defs["name"]

    def training_set(self, name, rebuild=False):
        """The training set's current version as a pandas DataFrame: the columns, order and rows
        of its stored files. Built through the engine first when `rebuild` is true or no version
        exists yet. The version's manifest is kept in `self.last_manifest`."""
        manifest, columns, _built = self._p.training_set(name, bool(rebuild))
        data = {}
        for col_name, type_name, values, valid in columns:
            data[col_name] = _column(type_name, values, valid)
        frame = pd.DataFrame(data, columns=[c[0] for c in columns])
        frame.attrs["sluice_version"] = manifest["id"]
        self.last_manifest = manifest
        return frame

    def versions(self, dataset):
        """Every version of a dataset (source, model or training set), oldest first, as dicts:
        id, created_at, kind, rows_read, rows_loaded, rows_quarantined, bytes, parents, inputs,
        outputs, schema, definition_hash."""
        return self._p.versions(dataset)

    def lineage(self, node):
        """Lineage edges ({"from", "to", "run_id"}) into or out of a node: a dataset name (its
        current version), a version id or prefix, or an input such as "file:data/x.csv@sha"."""
        return self._p.lineage(str(node))

    def get_online_features(self, view_or_service, entities, at=None, features=None):
        """Online feature values as `sluice serve` answers them (docs/serving.md), read from the
        project's online stores in-process. `entities` is a list of key dicts (or one dict);
        returns the response's "results" list."""
        if isinstance(entities, dict):
            entities = [entities]
        request = {"entities": list(entities)}
        if view_or_service in self._defs["feature_views"]:
            request["view"] = view_or_service
        elif view_or_service in self._defs["feature_services"]:
            request["service"] = view_or_service
        else:
            raise Error(
                f"no feature view or feature service {view_or_service!r} in project "
                f"{self.name!r}")
        if features is not None:
            request["features"] = list(features)
        if at is not None:
            request["at"] = _iso(at)
        status, body = self._p.online_features(json.dumps(request, default=_json_default))
        answer = json.loads(body)
        if status != 200:
            err = answer.get("error", {})
            raise Error(err.get("message", body))
        return answer["results"]


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (datetime.datetime, pd.Timestamp)):
        return _iso(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a valid entity key value")

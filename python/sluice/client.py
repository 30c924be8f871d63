"""`sluice.Client`: the HTTP feature API of `sluice serve` (docs/serving.md), with nothing but
Python's standard library, so a prediction service needs no compiled code."""

import datetime
import json
import urllib.error
import urllib.request


class ClientError(Exception):
    """A refusal or failure of the feature API: `status` is the HTTP status (0 when the server
    could not be reached), `kind` the error kind, and the message is the server's."""

    def __init__(self, message, status=0, kind=""):
        super().__init__(message)
        self.status = status
        self.kind = kind


class Client:
    """A client of `sluice serve` at `url` (e.g. "http://127.0.0.1:8080"). With `token`, every
    request carries "Authorization: Bearer <token>"."""

    def __init__(self, url, token=None, timeout=10.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                err = json.loads(raw)["error"]
                raise ClientError(err["message"], e.code, err.get("kind", "")) from None
            except (ValueError, KeyError, TypeError):
                raise ClientError(raw.decode("utf-8", "replace") or str(e), e.code) from None
        except urllib.error.URLError as e:
            raise ClientError(f"cannot reach {self.url}: {e.reason}") from None

    def get_online_features(self, entities, view=None, service=None, features=None, at=None):
        """POST /v1/features for a view or a service; returns the response's "results" list."""
        if (view is None) == (service is None):
            raise ValueError("give exactly one of view= or service=")
        if isinstance(entities, dict):
            entities = [entities]
        body = {"entities": list(entities)}
        if view is not None:
            body["view"] = view
        else:
            body["service"] = service
        if features is not None:
            body["features"] = list(features)
        if at is not None:
            if isinstance(at, datetime.datetime):
                if at.tzinfo is not None:
                    at = at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
                at = at.isoformat() + "Z"
            body["at"] = at
        _, raw = self._request("POST", "/v1/features", body)
        return json.loads(raw)["results"]

    def ready(self):
        """GET /readyz: True when every served view is ready."""
        try:
            status, _ = self._request("GET", "/readyz")
        except ClientError as e:
            if e.status == 503:
                return False
            raise
        return status == 200

    def health(self):
        """GET /healthz: True while the server runs."""
        status, _ = self._request("GET", "/healthz")
        return status == 200

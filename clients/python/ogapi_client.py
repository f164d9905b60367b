"""A client of the OG Image API (docs/clients.md): one file, the standard library only,
Python 3.9 or newer. Copy it into your project.

    from ogapi_client import Client, OgApiError

    client = Client("og_...", "https://og.example.com")
    png = client.generate(title="Hello, world", template="blog")
    url = client.sign_url(title="Hello, world")         # offline: no request, no quota
    for item in client.batch([{"title": "One"}, {"title": "Two", "format": "jpeg"}]):
        print(item["index"], item["status"], item.get("file"))
    print(client.usage()["remaining"])

Every error of the service is an `OgApiError` with its `code` (`QUOTA_EXCEEDED`, ...),
HTTP `status` and, for `RATE_LIMITED`, `retry_after` seconds. A request refused with
`RATE_LIMITED` is retried after `Retry-After`, at most `max_retries` times and never waiting
longer than `max_wait` seconds in all; then the error is raised.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import time
import urllib.error
import urllib.request
import zipfile
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["Client", "OgApiError", "sign_url"]
__version__ = "1.0.0"

SIGNING_CONTEXT = b"ogapi-signed-url-v1"


class OgApiError(Exception):
    """An error answer of the service (docs/rest-api.md, Errors), or `NETWORK_ERROR` (status 0)
    when it could not be reached."""

    def __init__(
        self,
        message: str,
        code: str,
        status: int,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after
        self.request_id = request_id


def _encode(value: str) -> str:
    """RFC 3986: everything but A-Z a-z 0-9 - . _ ~ percent-encoded (UTF-8, upper-case hex)."""
    return quote(value, safe="-._~")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sign_url(
    base_url: str,
    api_key: str,
    kid: str,
    params: dict[str, Any],
    expires_in: int | None = None,
    now: float | None = None,
) -> str:
    """A signed `/api/signed/image` URL (docs/signed-urls.md, "The algorithm"), made offline."""
    query = {name: _text(value) for name, value in params.items() if value not in (None, "")}
    query["kid"] = kid
    if expires_in is not None:
        query["exp"] = str(int(time.time() if now is None else now) + int(expires_in))
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query.items()))
    key = hmac.new(api_key.encode(), SIGNING_CONTEXT, hashlib.sha256).digest()
    sig = hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()
    return f"{base_url.rstrip('/')}/api/signed/image?{canonical}&sig={sig}"


class Client:
    """`Client(api_key, base_url)`. `kid` (your key's public id, shown with it in the
    dashboard and in every signed URL) makes `sign_url` work without any request; without it
    the client asks the service for it once (`GET /api/signed/generate`, which counts nothing).
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = "http://127.0.0.1:8080",
        *,
        kid: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        max_wait: float = 30.0,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.kid = kid
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait

    # ------------------------------------------------------------------ the API

    def generate(self, **params: Any) -> bytes:
        """The image for `params` (`title`, `template`, `format`, ...): PNG bytes by default."""
        body, _ = self._request("POST", "/api/generate", json_body=params)
        return body

    def sign_url(self, expires_in: int | None = None, **params: Any) -> str:
        """A signed image URL for `params`, computed here with your key (no quota is spent; the
        image renders, and counts, when the URL is first fetched). No expiry by default."""
        return sign_url(self.base_url, self.api_key, self._kid(), params, expires_in)

    def usage(self) -> dict[str, Any]:
        """`{"plan", "quota", "used", "remaining", "percent_used", "reset_date"}`."""
        body, _ = self._request("GET", "/api/user/usage")
        return json.loads(body)

    def batch(
        self,
        items: list[dict[str, Any]],
        *,
        urls: bool = False,
        out_dir: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """Render up to 100 images in one call; one result per item, in order:
        `{"index", "status": "ok"|"error", "code", "message", "cache", ...}`.

        By default each successful result has `file` (`001.png`, ...) and `image` (its
        bytes), or, with `out_dir`, `path` (the file written there) instead of `image`. With
        `urls=True`, each has `url`, a signed URL serving the image, and nothing is
        downloaded. An item's failure (e.g. `QUOTA_EXCEEDED`) is in its result, not raised.
        """
        headers = {"Accept": "application/json" if urls else "application/zip"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        body, _ = self._request("POST", "/api/batch", json_body={"items": items}, headers=headers)
        if urls:
            return list(json.loads(body)["results"])
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            results: list[dict[str, Any]] = json.loads(archive.read("manifest.json"))
            for result in results:
                if result.get("file"):
                    data = archive.read(result["file"])
                    if out_dir is None:
                        result["image"] = data
                    else:
                        result["path"] = os.path.join(out_dir, result["file"])
                        with open(result["path"], "wb") as f:
                            f.write(data)
        return results

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a GraphQL query (docs/graphql.md); the first error is raised as an
        `OgApiError` with its `extensions.code`."""
        payload = {"query": query, "variables": variables or {}}
        body, status = self._request("POST", "/graphql", json_body=payload)
        answer = json.loads(body)
        if answer.get("errors"):
            first = answer["errors"][0]
            code = (first.get("extensions") or {}).get("code") or "GRAPHQL_ERROR"
            raise OgApiError(first.get("message", "GraphQL error"), code, status)
        return answer.get("data") or {}

    # ------------------------------------------------------------------ plumbing

    def _kid(self) -> str:
        if self.kid is None:
            query = urlencode({"title": "kid"})
            body, _ = self._request("GET", f"/api/signed/generate?{query}")
            self.kid = str(json.loads(body)["kid"])
        return self.kid

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[bytes, int]:
        """(body, status) of a successful answer; RATE_LIMITED retried (bounded)."""
        data = None if json_body is None else json.dumps(json_body).encode()
        all_headers = {
            "X-API-Key": self.api_key,
            "User-Agent": f"ogapi-client-python/{__version__}",
            **(headers or {}),
        }
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        waited = 0.0
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(  # noqa: S310  # base_url: http(s) only (__init__)
                self.base_url + path, data=data, headers=all_headers, method=method
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  # as above
                    return response.read(), response.status
            except urllib.error.HTTPError as exc:
                error = _error_of(exc)
            except (urllib.error.URLError, OSError) as exc:
                raise OgApiError(str(exc), "NETWORK_ERROR", 0) from exc
            wait = error.retry_after or 1.0
            if error.code != "RATE_LIMITED" or attempt == self.max_retries:
                raise error
            if waited + wait > self.max_wait:
                raise error
            time.sleep(wait)
            waited += wait
        raise AssertionError("unreachable")


def _error_of(exc: urllib.error.HTTPError) -> OgApiError:
    try:
        raw = exc.read()
    finally:
        exc.close()
    try:
        body = json.loads(raw)
        message, code = str(body["message"]), str(body["code"])
        request_id = body.get("request_id")
    except (ValueError, KeyError, TypeError):
        message, code, request_id = raw[:200].decode("utf-8", "replace"), "HTTP_ERROR", None
    retry_after = None
    if exc.headers is not None and exc.headers.get("Retry-After"):
        try:
            retry_after = float(exc.headers["Retry-After"])
        except ValueError:
            retry_after = None
    return OgApiError(message, code, exc.code, retry_after, request_id)

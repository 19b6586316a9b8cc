"""A typed HTTP client for the image service's API (openapi.yaml), over one requests.Session.

Uploads are streamed from the file (requests-toolbelt's MultipartEncoder), never read into
memory; ``progress`` callbacks get the bytes sent so far. Failures become three exceptions:
:class:`ApiError` (the service or S3 said no), :class:`NetworkError` (no answer) and
:class:`WaitTimeout` (polling gave up).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

Json = dict[str, Any]
Progress = Callable[[int], None]
"""Called with the number of bytes transferred so far."""

DEFAULT_URL = "http://127.0.0.1:8080"
CHUNK = 256 * 1024
# What the service accepts, by magic bytes (it sniffs too; this only fills in content_type).
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (8, b"WEBP", "image/webp"),
)
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\"\)\]]+)")
_S3_ERROR = re.compile(r"<(Code|Message)>([^<]*)</\1>")


class ApiError(Exception):
    """The service said no: its ``{"error": {code, message}}`` and the HTTP status (None when
    the error came inside a 200 answer, like a rejected upload)."""

    def __init__(self, status: int | None, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class NetworkError(Exception):
    """No usable answer from ``url`` (refused, unresolvable, timed out, cut off)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach {url}: {reason}")
        self.url = url
        self.reason = reason


class WaitTimeout(Exception):
    """Polling did not reach a final state in time; ``last`` is the last state seen."""

    def __init__(self, message: str, last: Json | None) -> None:
        super().__init__(message)
        self.last = last


def content_type_of(path: Path) -> str:
    """The image type of a file from its first bytes, else from its extension."""
    with path.open("rb") as handle:
        head = handle.read(16)
    for offset, magic, media_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic and (
            media_type != "image/webp" or head.startswith(b"RIFF")
        ):
            return media_type
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def poll(
    fetch: Callable[[], Json],
    done: Callable[[Json], bool],
    *,
    timeout: float,
    on_state: Callable[[Json], None] | None = None,
    first_delay: float = 0.25,
    max_delay: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Json:
    """Call ``fetch`` until ``done`` says so, sleeping with exponential backoff (x1.6, capped);
    raise WaitTimeout after ``timeout`` seconds."""
    deadline = clock() + timeout
    delay = first_delay
    while True:
        state = fetch()
        if on_state is not None:
            on_state(state)
        if done(state):
            return state
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(f"gave up waiting after {timeout:g} seconds", state)
        sleep(min(delay, remaining))
        delay = min(delay * 1.6, max_delay)


class Client:
    """The API at ``base_url``; ``api_key`` goes in ``x-api-key`` to the API only (never to
    the S3 or CDN URLs it redirects to)."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        user_agent: str = "imgsvc-cli",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self._api_headers = {"x-api-key": api_key} if api_key else {}
        # Reads are retried on gateway hiccups and throttling; writes never are (not idempotent).
        retry = Retry(
            total=3,
            connect=0,
            read=0,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            backoff_factor=0.5,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- images -----------------------------------------------------------------------------

    def create(
        self,
        path: Path,
        *,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> Json:
        """POST /images: a new image (version 1) from a file, streamed as a multipart form;
        ``name`` defaults to the file's name."""
        return self._send_image("POST", "/images", path, name or path.name, metadata, progress)

    def update(
        self,
        image_id: str,
        path: Path,
        *,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> Json:
        """PUT /images/{id}: a new version of an image. Without ``name`` (or ``metadata``) the
        service keeps the previous version's; ``metadata`` replaces all of the previous."""
        return self._send_image("PUT", f"/images/{_seg(image_id)}", path, name, metadata, progress)

    def get(self, image_id: str, version: int | None = None) -> Json:
        path = f"/images/{_seg(image_id)}"
        return self._json("GET", path if version is None else f"{path}/versions/{version}")

    def versions(self, image_id: str) -> Json:
        return self._json("GET", f"/images/{_seg(image_id)}/versions")

    def delete(self, image_id: str) -> None:
        self._request("DELETE", f"/images/{_seg(image_id)}")

    def download(
        self, image_id: str, version: int, sink: IO[bytes], progress: Progress | None = None
    ) -> tuple[str, int]:
        """Stream a version's exact bytes into ``sink``; return their sha256 and length."""
        location = self._redirect(f"/images/{_seg(image_id)}/content", {"version": version})
        digest, size = hashlib.sha256(), 0
        with self._call("GET", location, stream=True) as response:
            _raise_for(response)
            for chunk in response.iter_content(CHUNK):
                sink.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(size)
        return digest.hexdigest(), size

    def restore(self, image_id: str, version: int | None = None) -> Json:
        """POST /images/{id}/restore: a deleted image (or ``version``) as the next version."""
        params = {"version": version} if version is not None else None
        return self._json("POST", f"/images/{_seg(image_id)}/restore", params=params)

    def gifs(self, image_id: str) -> Json:
        return self._json("GET", f"/images/{_seg(image_id)}/gifs")

    def resize_url(self, image_id: str, size: str) -> str:
        """Where GET /resize/{size}/{id} redirects to (the rendition on the CDN)."""
        return self._redirect(f"/resize/{_seg(size)}/{_seg(image_id)}")

    # -- direct uploads ---------------------------------------------------------------------

    def create_upload(
        self, name: str, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> Json:
        """POST /uploads: a one-time presigned form for a direct upload to S3."""
        body: Json = {"name": name, "content_type": content_type}
        if metadata:
            body["metadata"] = dict(metadata)
        return self._json("POST", "/uploads", json=body)

    def post_form(
        self, ticket: Json, path: Path, content_type: str, progress: Progress | None = None
    ) -> None:
        """POST the file to the ticket's presigned form (S3), streamed, as the last part."""
        form = ticket["upload"]
        fields: list[tuple[str, Any]] = [(str(k), str(v)) for k, v in form["fields"].items()]
        with path.open("rb") as handle:
            fields.append(("file", (path.name, handle, content_type)))
            body, headers = _multipart(fields, progress)
            with self._call("POST", form["url"], data=body, headers=headers) as response:
                _raise_for(response)

    def upload_status(self, upload_id: str) -> Json:
        return self._json("GET", f"/uploads/{_seg(upload_id)}")

    @staticmethod
    def image_body_bytes(
        path: Path, *, name: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> int:
        """How many bytes :meth:`create` (with its default name) or :meth:`update` sends for
        ``path``: the whole multipart form, which is what the API's body limit counts."""
        from requests_toolbelt import MultipartEncoder

        fields: list[tuple[str, Any]] = [(k, v) for k, v in (metadata or {}).items()]
        with path.open("rb") as handle:
            fields.append(("image", (name or None, handle, content_type_of(path))))
            return int(MultipartEncoder(fields=fields).len)

    # -- plumbing ---------------------------------------------------------------------------

    def _send_image(
        self,
        method: str,
        path: str,
        file: Path,
        name: str | None,
        metadata: Mapping[str, str] | None,
        progress: Progress | None,
    ) -> Json:
        fields: list[tuple[str, Any]] = [(k, v) for k, v in (metadata or {}).items()]
        with file.open("rb") as handle:
            # No name, no filename in the part: the service then keeps the previous name.
            fields.append(("image", (name or None, handle, content_type_of(file))))
            body, headers = _multipart(fields, progress)
            return self._json(method, path, data=body, headers=headers)

    def _json(self, method: str, path: str, **kwargs: Any) -> Json:
        with self._request(method, path, **kwargs) as response:
            try:
                value = response.json()
            except ValueError:
                value = None
        if not isinstance(value, dict):
            raise ApiError(
                response.status_code, "bad_response", f"{method} {path} did not return JSON."
            )
        return value

    def _redirect(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        with self._request("GET", path, params=params, allow_redirects=False) as response:
            location = response.headers.get("Location")
        if not response.is_redirect or not location:
            raise ApiError(response.status_code, "bad_response", f"GET {path} did not redirect.")
        return urljoin(response.url, location)

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self._api_headers, **kwargs.pop("headers", {})}
        response = self._call(method, self.base_url + path, headers=headers, **kwargs)
        _raise_for(response)
        return response

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            where = self.base_url if url.startswith(self.base_url) else _origin(url)
            raise NetworkError(where, f"no answer within {self.timeout:g} seconds") from None
        except requests.ConnectionError as exc:
            where = self.base_url if url.startswith(self.base_url) else _origin(url)
            raise NetworkError(where, _reason(exc)) from None


def _multipart(
    fields: list[tuple[str, Any]], progress: Progress | None
) -> tuple[Any, dict[str, str]]:
    """A streaming multipart body (and its Content-Type header) that reports progress."""
    from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor

    encoder = MultipartEncoder(fields=fields)
    body: Any = encoder
    if progress is not None:
        report = progress
        body = MultipartEncoderMonitor(encoder, lambda monitor: report(monitor.bytes_read))
    return body, {"Content-Type": encoder.content_type}


def _raise_for(response: requests.Response) -> None:
    """Raise ApiError for a 4xx/5xx answer, with the service's (or S3's) code and message."""
    if response.status_code < 400:
        return
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and "code" in error:
            raise ApiError(status, str(error["code"]), str(error.get("message", "")))
        if isinstance(body.get("message"), str):  # API Gateway's own answers
            raise ApiError(status, f"http_{status}", body["message"])
    found = dict(_S3_ERROR.findall(response.text[:4096]))
    if found.get("Code"):  # S3's XML errors (presigned POST/GET)
        raise ApiError(status, found["Code"], found.get("Message", ""))
    text = " ".join(response.text.split())[:200] or response.reason or "no details"
    raise ApiError(status, f"http_{status}", text)


def _seg(value: str) -> str:
    """One path segment, percent-encoded: ``a/b`` stays one segment."""
    return quote(value, safe="")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    found = _ERRNO.search(text)
    if found:
        return found[1].strip().lower()
    return text or "the connection failed"

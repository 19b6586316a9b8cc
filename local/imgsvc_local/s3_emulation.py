"""What S3 does that moto does not, done in front of (or inside) moto so the local mode refuses
and delivers what AWS would:

- presigned POST policies are enforced (:class:`EnforcePostPolicy`): moto stores any form
  POST, S3 checks the signature, the expiry and every condition first, and takes a POST
  Object only as multipart/form-data;
- S3 event notifications carry the object's ``versionId`` (:func:`emulate_s3_event_versions`),
  which the GIF consumers need to find the image version an event is about.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape


class EnforcePostPolicy:
    """WSGI middleware: the checks S3 makes of a browser-form (presigned POST) upload.

    moto stores whatever a form POST sends. S3 first verifies the policy's SigV4 signature, its
    expiry and each condition (exact and ``starts-with`` matches, ``content-length-range``), and
    refuses form fields no condition covers. This does the same before moto sees the request,
    answering with S3's error codes (AccessDenied, SignatureDoesNotMatch, EntityTooLarge, ...).
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        credentials: Mapping[str, str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.access_key = credentials["AWS_ACCESS_KEY_ID"]
        self.secret_key = credentials["AWS_SECRET_ACCESS_KEY"]
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        content_type = environ.get("CONTENT_TYPE", "").lower()
        if environ.get("REQUEST_METHOD") != "POST" or not _is_bucket_post(environ):
            return self.app(environ, start_response)
        if not content_type.startswith("multipart/form-data"):
            # S3 takes a POST Object only as a multipart/form-data form ("POST Object", Amazon
            # S3 API Reference): anything else is refused before a field is read.
            return _s3_error(
                start_response,
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold: Bucket POST "
                "must be of the enclosure-type multipart/form-data",
            )
        from werkzeug.formparser import parse_form_data

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        _, form, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)})
        fields = {name.lower(): value for name, value in form.items()}
        upload = files.get("file")
        size = len(upload.read()) if upload is not None else None
        bucket = environ.get("PATH_INFO", "").strip("/").split("/", 1)[0]
        refused = post_policy_error(
            bucket,
            fields,
            size,
            access_key=self.access_key,
            secret_key=self.secret_key,
            now=self.clock(),
        )
        if refused is not None:
            return _s3_error(start_response, *refused)
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _is_bucket_post(environ: Mapping[str, Any]) -> bool:
    """A POST to a bucket itself (``/<bucket>``, no query): S3's POST Object, a form upload.
    (moto's other services take POSTs on ``/`` or ``/<account>/<queue>``; S3's own POST
    operations all have a query: ``?delete``, ``?uploads``, ...)"""
    parts = [p for p in environ.get("PATH_INFO", "").split("/") if p]
    return len(parts) == 1 and not environ.get("QUERY_STRING")


def _s3_error(
    start_response: Callable[..., Any], status: int, code: str, message: str
) -> list[bytes]:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex}</RequestId></Error>"
    ).encode()
    reason = {403: "Forbidden", 412: "Precondition Failed"}.get(status, "Bad Request")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(xml)))],
    )
    return [xml]


# Form fields S3 never requires a policy condition for.
_UNCONDITIONED_FIELDS = frozenset({"policy", "x-amz-signature", "file"})


def post_policy_error(
    bucket: str,
    fields: Mapping[str, str],
    file_size: int | None,
    *,
    access_key: str,
    secret_key: str,
    now: datetime,
) -> tuple[int, str, str] | None:
    """Why S3 would refuse this form POST (status, code, message), or None if it would take it.

    ``fields`` has lowercase names. Only SigV4 forms are checked (boto3 signs POSTs with SigV4
    when the client uses ``s3v4``, as the service's clients do).
    """
    if file_size is None:
        return 400, "InvalidArgument", "POST requires exactly one file upload per request."
    encoded = fields.get("policy")
    if not encoded:
        return 403, "AccessDenied", "Access Denied"
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        return 400, "InvalidArgument", "Only the AWS4-HMAC-SHA256 algorithm is supported here."
    scope = fields.get("x-amz-credential", "").split("/")
    if len(scope) != 5 or scope[3] != "s3" or scope[4] != "aws4_request":
        return 400, "AuthorizationQueryParametersError", "Malformed x-amz-credential."
    if scope[0] != access_key:
        return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist."
    key = f"AWS4{secret_key}".encode()
    for part in scope[1:]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        return (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        policy = json.loads(base64.b64decode(encoded))
        expiration = datetime.fromisoformat(policy["expiration"])
        conditions = list(policy["conditions"])
    except (ValueError, KeyError, TypeError):
        return 400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON."
    if now >= expiration:
        return 403, "AccessDenied", "Invalid according to Policy: Policy expired."
    values = {**fields, "bucket": bucket}
    covered = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, expected_value),) = condition.items()
            condition = ["eq", f"${name}", expected_value]
        if not isinstance(condition, list) or len(condition) != 3:
            return 400, "InvalidPolicyDocument", f"Invalid Policy: condition {condition!r}."
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if file_size > high:
                return (
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                )
            if file_size < low:
                return (
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                )
            continue
        name = str(condition[1]).lstrip("$").lower()
        covered.add(name)
        actual = values.get(name)
        wanted = str(condition[2])
        matched = actual is not None and (
            actual == wanted
            if operator == "eq"
            else operator == "starts-with" and actual.startswith(wanted)
        )
        if not matched:
            return (
                403,
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
            )
    extra = sorted(
        name
        for name in fields
        if name not in covered
        and name not in _UNCONDITIONED_FIELDS
        and not name.startswith("x-ignore-")
    )
    if extra:
        return (
            403,
            "AccessDenied",
            f"Invalid according to Policy: Extra input fields: {', '.join(extra)}",
        )
    return None


_S3_EVENTS_PATCHED = False


def emulate_s3_event_versions() -> None:
    """Make moto's S3 event notifications carry ``versionId`` as S3's do.

    moto leaves them out; the GIF consumers need the version id to find the image version an
    event is about. Patches moto's event builder once per process (moto is pinned).
    """
    global _S3_EVENTS_PATCHED
    if _S3_EVENTS_PATCHED:
        return
    from moto.s3 import notifications

    build = notifications._get_s3_event

    def with_version(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
        event = build(event_name, bucket, key, notification_id)
        version_id = getattr(key, "version_id", None)
        for record in event["Records"]:
            if version_id and version_id != "null":
                record["s3"]["object"]["versionId"] = version_id
        return event

    notifications._get_s3_event = with_version
    _S3_EVENTS_PATCHED = True

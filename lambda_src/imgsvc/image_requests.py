"""``POST /images`` and ``PUT /images/<id>`` requests (raw body or multipart form, ``x-meta-*``
headers) as typed values, and the name and metadata rules every request shares.

Pure functions over bytes and header mappings (every value of each header, as API Gateway's
``multiValueHeaders``): no event shapes, no AWS.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from imgsvc.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from imgsvc.imaging import CONTENT_TYPES

META_HEADER_PREFIX = "x-meta-"
MULTIPART_FILE_PART = "image"
MAX_METADATA_ENTRIES = 32
MAX_METADATA_VALUE = 1024
MAX_NAME_LENGTH = 255
_META_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# Raw bodies must say they are an image (or octet-stream); the bytes decide which. These are
# binary media types of the API (modules/api), so API Gateway passes the bytes intact.
_RAW_TYPES = ("image/", "application/octet-stream")
_ACCEPTED = ", ".join(sorted(CONTENT_TYPES))  # as imaging words it


@dataclass(frozen=True, slots=True)
class ImageUpload:
    """An image request, parsed: bytes, an optional (sanitised) name and metadata."""

    data: bytes
    name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    metadata_given: bool = False


def sanitize_name(raw: str | None) -> str | None:
    """A safe display name: the last path part, no control characters.

    ``../../etc/passwd.jpg`` becomes ``passwd.jpg``; a name with nothing left becomes None
    (the image then gets a default name). A name over 255 characters is refused, never cut.
    """
    if raw is None:
        return None
    if len(raw) > MAX_NAME_LENGTH:
        raise BadRequest(
            f"The name is {len(raw)} characters long; names have at most {MAX_NAME_LENGTH}.",
            code="invalid_name",
        )
    text = unicodedata.normalize("NFC", raw)
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    text = text.lstrip(".").strip()
    return text or None


def default_name(content_type: str) -> str:
    """The name of an image sent without a usable one: ``image.jpg``, ``image.png``, ..."""
    extension = {"image/jpeg": "jpg"}.get(content_type, content_type.rpartition("/")[2])
    return f"image.{extension}"


def validate_metadata(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Check and normalise metadata keys (lowercase) and values; raise BadRequest if invalid."""
    metadata: dict[str, str] = {}
    for raw_key, value in pairs:
        key = raw_key.lower()
        if not _META_KEY.match(key):
            raise BadRequest(
                f"Metadata key {raw_key!r} is not allowed: use 1-64 characters of a-z, 0-9, '_', "
                "'-' or '.', starting with a letter or digit.",
                code="invalid_metadata",
            )
        if key in metadata:
            raise BadRequest(f"Metadata key {key!r} is given twice.", code="invalid_metadata")
        if len(value) > MAX_METADATA_VALUE:
            raise BadRequest(
                f"Metadata value of {key!r} is {len(value)} characters long; values have at "
                f"most {MAX_METADATA_VALUE}.",
                code="invalid_metadata",
            )
        refused = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Cs")), None)
        if refused is not None:
            # Control characters (TAB and line breaks included) and lone surrogates: S3 and
            # HTTP headers cannot carry them. Format characters (a ZWJ in an emoji) are text.
            raise BadRequest(
                f"Metadata value of {key!r} contains the control character "
                f"U+{ord(refused):04X}: values are text on one line, without tabs.",
                code="invalid_metadata",
            )
        # Spaces around a value are dropped, as HTTP drops them around a header's value: a
        # value of only spaces is the empty string.
        metadata[key] = value.strip()
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise BadRequest(
            f"At most {MAX_METADATA_ENTRIES} metadata entries are allowed, got {len(metadata)}.",
            code="invalid_metadata",
        )
    return metadata


def metadata_from_headers(headers: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """The ``x-meta-<key>: <value>`` headers as (key, value) pairs, one per value sent: a header
    sent twice gives its key twice (which :func:`validate_metadata` refuses), never a merged value.

    Raises BadRequest for a value that is not ASCII: header bytes come with no charset (the
    UTF-8 of ``é`` arrives as ``Ã©``), so such values must come as form fields, which are UTF-8.
    """
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():
        if not name.lower().startswith(META_HEADER_PREFIX):
            continue
        for value in values:
            if not value.isascii():
                raise BadRequest(
                    f"Header {name.lower()!r} is not plain ASCII, and HTTP headers cannot carry "
                    "other text reliably: send metadata like this as a text field of a "
                    "multipart/form-data request instead (the image in its "
                    f"{MULTIPART_FILE_PART!r} file part).",
                    code="invalid_metadata",
                )
            pairs.append((name[len(META_HEADER_PREFIX) :], value))
    return pairs


def parse_image_request(
    *,
    body: bytes,
    headers: Mapping[str, Sequence[str]],
    name: str | None,
    max_bytes: int,
) -> ImageUpload:
    """Parse an image request body; ``headers`` maps lowercase names to every value sent.

    Raises PayloadTooLarge over ``max_bytes``, UnsupportedMediaType for a non-image content type,
    BadRequest for a malformed form or metadata.
    """
    if len(body) > max_bytes:
        raise PayloadTooLarge(
            f"The body is {len(body):,} bytes; the API takes at most {max_bytes:,}. "
            "Upload larger images directly: POST /uploads returns a presigned form.",
            code="payload_too_large",
        )
    # The last value, as API Gateway's single-value headers (and its binary media type check).
    content_type = (headers.get("content-type") or [""])[-1].strip()
    media_type = content_type.split(";", 1)[0].strip().lower()
    pairs = metadata_from_headers(headers)

    if media_type == "multipart/form-data":
        data, form_name, form_pairs = _parse_multipart(body, content_type)
        pairs += form_pairs
        name = name if name is not None else form_name
    elif not media_type and body:
        # API Gateway passes a body intact only under a binary media type; without a
        # Content-Type it is text, and an image's bytes would arrive mangled.
        raise UnsupportedMediaType(
            f"The request has no Content-Type: set it to the image's type ({_ACCEPTED}), or "
            f"send multipart/form-data with an {MULTIPART_FILE_PART!r} file part.",
            code="missing_content_type",
        )
    elif not media_type or media_type.startswith(_RAW_TYPES):
        data = body  # no body at all: the image checks say it is empty
    else:
        raise UnsupportedMediaType(
            f"Content-Type {media_type!r} is not accepted: send the raw image ({_ACCEPTED}) or "
            f"multipart/form-data with an {MULTIPART_FILE_PART!r} file part.",
            code="unsupported_content_type",
        )
    return ImageUpload(
        data=data,
        name=sanitize_name(name),
        metadata=validate_metadata(pairs),
        metadata_given=bool(pairs),
    )


def _parse_multipart(
    body: bytes, content_type: str
) -> tuple[bytes, str | None, list[tuple[str, str]]]:
    from requests_toolbelt.multipart.decoder import (  # deferred: only forms need it
        ImproperBodyPartContentException,
        MultipartDecoder,
        NonMultipartContentTypeException,
    )

    if "boundary=" not in content_type.lower():
        raise BadRequest(
            "The multipart Content-Type has no boundary parameter.", code="malformed_form"
        )
    try:
        decoder = MultipartDecoder(body, content_type)
    except (
        NonMultipartContentTypeException,
        ImproperBodyPartContentException,
        ValueError,
        AttributeError,  # requests-toolbelt's answer to some malformed bodies
    ) as exc:
        raise BadRequest(
            f"The multipart form is malformed: {exc}.", code="malformed_form"
        ) from None

    # The decoder splits on the delimiters and takes whatever follows the last one as a part:
    # a form cut short would give a part with the delimiter's CRLF, or half a file, as its bytes.
    closing = b"\r\n--" + decoder.boundary + b"--"
    if closing not in b"\r\n" + body:
        raise BadRequest(
            "The multipart form is truncated: it does not end with its closing boundary "
            f"('--{decoder.boundary.decode('utf-8', 'replace')}--'). Send the whole form.",
            code="malformed_form",
        )

    data: bytes | None = None
    filename: str | None = None
    pairs: list[tuple[str, str]] = []
    for part in decoder.parts:
        disposition = part.headers.get(b"Content-Disposition", b"").decode("utf-8", "replace")
        params = _disposition_params(disposition)
        field_name = params.get("name")
        if field_name is None:
            raise BadRequest(
                "A multipart part has no name in its Content-Disposition.", code="malformed_form"
            )
        if field_name == MULTIPART_FILE_PART:
            if data is not None:
                raise BadRequest("Send exactly one 'image' file part.", code="malformed_form")
            data = part.content
            filename = params.get("filename")
        elif "filename" in params:
            raise BadRequest(
                f"Unexpected file part {field_name!r}: the image goes in the 'image' part.",
                code="malformed_form",
            )
        else:
            try:
                pairs.append((field_name, part.content.decode("utf-8")))
            except UnicodeDecodeError:
                raise BadRequest(
                    f"Form field {field_name!r} is not UTF-8 text.", code="invalid_metadata"
                ) from None
    if data is None:
        raise BadRequest("The multipart form has no 'image' file part.", code="missing_image_part")
    return data, filename, pairs


def _disposition_params(disposition: str) -> dict[str, str]:
    """Parameters of a Content-Disposition header (RFC 7578 form-data), via the email parser."""
    from email.message import Message
    from email.utils import collapse_rfc2231_value

    message = Message()
    message["content-disposition"] = disposition
    params = message.get_params(header="content-disposition") or []
    out: dict[str, str] = {}
    for key, value in params[1:]:
        # name*= / filename*= (RFC 2231) come as (charset, language, text): decode them.
        out[key.lower()] = collapse_rfc2231_value(value)
    return out

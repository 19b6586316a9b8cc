"""schemathesis hooks for the contract run (tests/http/test_contract.py): image bodies that are
images.

OpenAPI describes an image body as ``type: string, format: binary``: any bytes. The service
takes only bytes that decode as an image (else 415 ``not_an_image`` or 422), which no schema
can say. So the generator is given what the schema means: for each image media type, small
real images of that type, and for the multipart form's ``image`` part in positive cases, one
of them too. Negative cases keep whatever the generator made.
"""

from __future__ import annotations

import io
from typing import Any

import schemathesis
from hypothesis import strategies as st
from PIL import Image

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


def _encode(fmt: str, width: int, height: int, shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 255 - shade, shade // 2)).save(out, fmt)
    return out.getvalue()


def images(fmt: str) -> st.SearchStrategy[bytes]:
    side = st.integers(min_value=1, max_value=48)
    return st.builds(_encode, st.just(fmt), side, side, st.integers(0, 255))


for _media_type, _fmt in FORMATS.items():
    schemathesis.openapi.media_type(_media_type, images(_fmt))

# Form parts are chosen from these (a hook cannot draw from a strategy mid-test).
_FORM_IMAGES = [
    _encode(fmt, 1 + 7 * i, 1 + 5 * i, 40 * i) for i in range(1, 4) for fmt in FORMATS.values()
]


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: Any) -> Any:
    positive = case.meta is None or case.meta.generation.mode.name == "POSITIVE"
    if positive and case.media_type == "multipart/form-data" and isinstance(case.body, dict):
        case.body["image"] = _FORM_IMAGES[len(repr(case.body)) % len(_FORM_IMAGES)]
    return case

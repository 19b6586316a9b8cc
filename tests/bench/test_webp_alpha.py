"""The ctypes binding that ``python -m bench webp_alpha`` measures libwebp through."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from bench import webp_alpha
from tests.support import imagegen

pytestmark = pytest.mark.skipif(
    webp_alpha._libwebp() is None, reason="this Pillow does not bundle libwebp"
)


def _pillow(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=80, method=4)
    return out.getvalue()


@pytest.mark.parametrize("size", [(64, 48), (33, 17)])
def test_default_settings_encode_the_bytes_pillow_does(size: tuple[int, int]) -> None:
    image = imagegen.photo_in("RGBA", *size, seed=3)

    encoded = webp_alpha.encode(image.tobytes(), size, {})

    assert encoded == _pillow(image)


def test_uncompressed_alpha_keeps_the_alpha_plane_exactly_in_a_larger_file() -> None:
    image = imagegen.photo_in("RGBA", 96, 64, seed=5)

    raw = webp_alpha.encode(image.tobytes(), image.size, {"alpha_compression": 0})

    decoded = Image.open(io.BytesIO(raw))
    assert decoded.size == image.size
    alpha = ImageChops.difference(decoded.convert("RGBA").getchannel("A"), image.getchannel("A"))
    assert alpha.getbbox() is None
    assert len(raw) > len(webp_alpha.encode(image.tobytes(), image.size, {}))


def test_settings_libwebp_rejects_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="rejects"):
        webp_alpha.encode(bytes(16 * 16 * 4), (16, 16), {"method": 9})

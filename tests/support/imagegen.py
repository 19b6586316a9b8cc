"""Real image bytes for tests and benchmarks, made with Pillow (no binary fixtures in the repo).

The photo-like images mix gradients, shapes and noise so that JPEG and resampling behave as
they do on camera pictures (flat synthetic images compress and resize unrealistically well).
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw

EXIF_ORIENTATION = 0x0112


def photo(width: int, height: int, *, seed: int = 1) -> Image.Image:
    """An RGB photo-like image of the given size."""
    small_w, small_h = max(8, width // 8), max(8, height // 8)
    red = Image.linear_gradient("L").resize((small_w, small_h))
    green = Image.radial_gradient("L").resize((small_w, small_h))
    blue = Image.linear_gradient("L").rotate(90 + seed * 7).resize((small_w, small_h))
    base = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(base)
    for i in range(12):
        x = (seed * 37 + i * 53) % small_w
        y = (seed * 91 + i * 29) % small_h
        r = 2 + (i * 7 + seed) % max(3, small_w // 6)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=((i * 40) % 256, (i * 90) % 256, 200))
    base = base.resize((width, height), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    return Image.blend(base, noise, 0.10)


def photo_in(mode: str, width: int, height: int, *, seed: int = 1) -> Image.Image:
    """:func:`photo` in ``mode``; a mode with alpha gets a radial gradient of it."""
    image = photo(width, height, seed=seed)
    if "A" in mode:
        image = image.convert("RGBA")
        image.putalpha(Image.radial_gradient("L").resize((width, height)))
    return image.convert(mode)


def graphic(width: int, height: int) -> Image.Image:
    """A flat RGBA graphic (shapes and text on transparency): what PNG originals often are."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for i in range(40):
        x, y = (i * 97) % width, (i * 53) % height
        draw.rounded_rectangle(
            (x, y, x + width // 6, y + height // 12), 8, fill=((i * 50) % 256, 90, 200, 255)
        )
        draw.text((x + 4, y + 4), f"Serverless image service {i}", fill=(0, 0, 0, 255))
    return image


def decoded(data: bytes) -> Image.Image:
    """The image in ``data``, decoded (its format and info kept)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def jpeg(width: int = 640, height: int = 480, *, seed: int = 1, quality: int = 88) -> bytes:
    return encode(photo(width, height, seed=seed), "JPEG", quality=quality)


def png(width: int = 320, height: int = 240, *, seed: int = 1, alpha: bool = False) -> bytes:
    return encode(photo_in("RGBA" if alpha else "RGB", width, height, seed=seed), "PNG")


def webp(width: int = 320, height: int = 240, *, seed: int = 1, alpha: bool = False) -> bytes:
    image = photo_in("RGBA" if alpha else "RGB", width, height, seed=seed)
    return encode(image, "WEBP", quality=85)


def gif(width: int = 160, height: int = 120, *, frames: int = 4, seed: int = 1) -> bytes:
    """An animated GIF with ``frames`` distinct frames."""
    images = [photo(width, height, seed=seed + i).quantize(64) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def jpeg_with_orientation(width: int, height: int, orientation: int, *, seed: int = 1) -> bytes:
    """A JPEG whose stored pixels are ``width`` x ``height`` with an EXIF Orientation tag."""
    image = photo(width, height, seed=seed)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    return encode(image, "JPEG", quality=90, exif=exif.tobytes())


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares ``width`` x ``height`` (a decompression-bomb shape).

    The IDAT holds one compressed row only: decoding would fail or explode, reading the header
    must be enough to refuse it.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * (3 * min(width, 1024))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row))
        + chunk(b"IEND", b"")
    )


def gif_with_frames(canvas: tuple[int, int], sizes: list[tuple[int, int]]) -> bytes:
    """An animated GIF whose logical screen is ``canvas`` and whose frames, all at the top left,
    have ``sizes``: a frame larger than the screen (a bomb's shape when the screen is tiny) makes
    Pillow grow the image only when it seeks to that frame. Flat frames compress to little."""
    screen = io.BytesIO()
    Image.new("P", canvas).save(screen, "GIF")
    head = screen.getvalue()
    header = head[: 13 + 3 * 2 ** ((head[10] & 7) + 1)]  # signature, screen, global colours
    frames = []
    for index, size in enumerate(sizes):
        flat = Image.new("P", size, index % 2)
        flat.putpalette([0, 0, 0, 255, 255, 255] * 128)
        encoded = encode(flat, "GIF")
        descriptor = encoded.index(b"\x2c\x00\x00\x00\x00")  # image descriptor at (0, 0)
        control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 100 ms, no disposal
        frames.append(control + encoded[descriptor:-1])  # without the trailer
    return header + b"".join(frames) + b";"


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    """The first ``keep`` fraction of ``data`` (a truncated upload)."""
    return data[: int(len(data) * keep)]

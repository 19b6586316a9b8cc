"""GIF effects on real image bytes: the animation contract, inputs of every kind, bad input."""

from __future__ import annotations

import io
import itertools
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageSequence, ImageStat, JpegImagePlugin

from imgsvc import effects
from imgsvc.errors import UnprocessableImage
from tests.support import imagegen

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "gifs"
NAMES = list(effects.DEFAULT_EFFECTS)


def frames_of(data: bytes) -> list[Image.Image]:
    """Every frame as a viewer composes it (disposal applied), in RGBA."""
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF"
        return [frame.convert("RGBA") for frame in ImageSequence.Iterator(gif)]


def durations_of(data: bytes) -> list[int]:
    with Image.open(io.BytesIO(data)) as gif:
        return [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per RGB channel, 0..255."""
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return sum(ImageStat.Stat(diff).mean) / 3


def local_colour_tables(data: bytes) -> int:
    """How many frames of a GIF carry their own colour table (walks the GIF's blocks)."""
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    count = 0

    def skip_sub_blocks(pos: int) -> int:
        while data[pos]:
            pos += data[pos] + 1
        return pos + 1

    while data[pos] != 0x3B:  # trailer
        if data[pos] == 0x21:  # extension: label, then sub-blocks
            pos = skip_sub_blocks(pos + 2)
        else:
            assert data[pos] == 0x2C, f"unexpected block {data[pos]:#x} at {pos}"
            flags = data[pos + 9]
            pos += 10
            if flags & 0x80:
                count += 1
                pos += 3 * (2 << (flags & 7))
            pos = skip_sub_blocks(pos + 1)  # after the LZW minimum code size
    return count


def icc_rgb_profile(
    red: tuple[float, float, float],
    green: tuple[float, float, float],
    blue: tuple[float, float, float],
) -> bytes:
    """A minimal ICC v2 RGB display profile with these primaries (D50 XYZ) and gamma 2.2."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    white = (0.9642, 1.0, 0.8249)
    tags = [
        (b"wtpt", xyz(*white)),
        (b"rXYZ", xyz(*red)),
        (b"gXYZ", xyz(*green)),
        (b"bXYZ", xyz(*blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, tag in tags:
        table += signature + struct.pack(">II", offset + len(body), len(tag))
        body += tag + b"\0" * (-len(tag) % 4)
    header = (
        struct.pack(">I", offset + len(body))
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + xyz(*white)[8:]
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + body


def expected_size(effect: str, width: int, height: int, box: int) -> tuple[int, int]:
    if effect == "spin":  # a square disc cut from the centre
        side = min(box, width, height)
        return side, side
    return effects.fit(width, height, box)


@pytest.fixture(scope="module")
def photo() -> bytes:
    return imagegen.jpeg(800, 600)


def test_the_default_set_is_zoom_spin_hue_and_names_are_url_safe() -> None:
    assert effects.DEFAULT_EFFECTS == ("zoom", "spin", "hue")
    assert set(effects.DEFAULT_EFFECTS) <= set(effects.EFFECTS)
    for name, effect in effects.EFFECTS.items():
        assert effect.name == name
        assert name.replace("-", "").isalnum()
        assert name == name.lower()


# --- bad input first ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"definitely not an image",
        b"\xff\xd8\xff\xe0" + b"\x00" * 64,  # a JPEG signature and nothing after it
        imagegen.truncated(imagegen.jpeg(640, 480)),
        imagegen.truncated(imagegen.png(320, 240)),
        imagegen.truncated(imagegen.webp(320, 240)),
        imagegen.truncated(imagegen.gif(frames=2), keep=0.3),
    ],
    ids=[
        "empty",
        "text",
        "jpeg-header-only",
        "truncated-jpeg",
        "truncated-png",
        "truncated-webp",
        "truncated-gif",
    ],
)
@pytest.mark.parametrize("effect", NAMES)
def test_undecodable_bytes_are_unprocessable(data: bytes, effect: str) -> None:
    with pytest.raises(UnprocessableImage) as caught:
        effects.make_gif(data, effect, box=400, frames=4, frame_ms=80)
    assert caught.value.code == "corrupt_image"
    assert caught.value.status == 422


def test_over_the_pixel_limit_is_refused_before_decoding() -> None:
    with pytest.raises(UnprocessableImage) as caught:
        effects.make_gif(
            imagegen.png_declaring(30_000, 30_000), "zoom", box=400, frames=4, frame_ms=80
        )
    assert caught.value.code == "too_many_pixels"
    with pytest.raises(UnprocessableImage) as caught:
        effects.make_gif(
            imagegen.jpeg(640, 480), "hue", box=400, frames=4, frame_ms=80, max_pixels=640 * 480 - 1
        )
    assert caught.value.code == "too_many_pixels"


def test_unknown_effect_is_a_value_error_naming_the_known_ones(photo: bytes) -> None:
    with pytest.raises(ValueError, match=r"'sparkle'.*hue, spin, zoom"):
        effects.make_gif(photo, "sparkle", box=400, frames=4, frame_ms=80)
    with pytest.raises(ValueError, match="Unknown GIF effect"):
        effects.get_effect("Zoom")


@pytest.mark.parametrize(
    ("box", "frames", "frame_ms", "message"),
    [
        (0, 16, 80, "box"),
        (effects.MAX_BOX + 1, 16, 80, "box"),
        (400, 0, 80, "frames"),
        (400, effects.MAX_FRAMES + 1, 80, "frames"),
        (400, 16, 10, "frame_ms"),
        (400, 16, 85, "frame_ms"),
    ],
)
def test_knobs_out_of_range_are_value_errors(
    photo: bytes, box: int, frames: int, frame_ms: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        effects.make_gif(photo, "zoom", box=box, frames=frames, frame_ms=frame_ms)


# --- the animation contract --------------------------------------------------------------------


@pytest.mark.parametrize("effect", NAMES)
def test_a_looping_animation_of_distinct_frames_fitting_the_box(photo: bytes, effect: str) -> None:
    gif = effects.make_gif(photo, effect, box=400, frames=16, frame_ms=80)

    frames = frames_of(gif.data)
    with Image.open(io.BytesIO(gif.data)) as image:
        assert image.n_frames == 16 == gif.frames
        assert image.info["loop"] == 0  # forever
        assert image.size == (gif.width, gif.height) == expected_size(effect, 800, 600, 400)
    assert durations_of(gif.data) == [80] * 16
    pictures = {frame.tobytes() for frame in frames}
    assert len(pictures) == 16  # every frame differs from every other
    # It moves smoothly: every step is smaller than the way from the first frame to the middle one.
    steps = [mean_difference(a, b) for a, b in itertools.pairwise([*frames, frames[0]])]
    assert 0 < max(steps) < mean_difference(frames[0], frames[8])


@pytest.mark.parametrize("effect", NAMES)
def test_frames_box_and_duration_are_configurable(photo: bytes, effect: str) -> None:
    gif = effects.make_gif(photo, effect, box=120, frames=5, frame_ms=40)

    assert gif.frames == 5
    assert len(frames_of(gif.data)) == 5
    assert durations_of(gif.data) == [40] * 5
    assert (gif.width, gif.height) == expected_size(effect, 800, 600, 120)


@pytest.mark.parametrize("effect", NAMES)
def test_aspect_is_kept_and_small_pictures_are_not_enlarged(effect: str) -> None:
    wide = effects.make_gif(imagegen.jpeg(400, 200), effect, box=400, frames=4, frame_ms=80)
    small = effects.make_gif(imagegen.jpeg(90, 60), effect, box=400, frames=4, frame_ms=80)

    assert (wide.width, wide.height) == ((200, 200) if effect == "spin" else (400, 200))
    assert (small.width, small.height) == ((60, 60) if effect == "spin" else (90, 60))
    assert len(frames_of(small.data)) == 4


def test_hue_first_frame_is_the_picture_and_later_ones_turn_its_colours(photo: bytes) -> None:
    gif = effects.make_gif(photo, "hue", box=400, frames=6, frame_ms=80)
    source = Image.open(io.BytesIO(photo)).resize((gif.width, gif.height))
    frames = frames_of(gif.data)

    assert mean_difference(frames[0], source) < 6
    # Half way round the wheel the colours are far from the picture's, the light stays similar.
    assert mean_difference(frames[3], source) > 25
    assert (
        abs(
            ImageStat.Stat(frames[3].convert("L")).mean[0]
            - ImageStat.Stat(source.convert("L")).mean[0]
        )
        < 40
    )


def test_zoom_starts_on_the_whole_picture_and_moves_in(photo: bytes) -> None:
    gif = effects.make_gif(photo, "zoom", box=400, frames=8, frame_ms=80)
    source = Image.open(io.BytesIO(photo))
    frames = frames_of(gif.data)
    whole = source.resize((gif.width, gif.height))
    left, top, right, bottom = effects.zoom_region(800, 600, 4, 8)
    assert right - left == pytest.approx(800 / effects.ZOOM)  # half way: fully zoomed in
    assert bottom - top == pytest.approx(600 / effects.ZOOM)
    assert top < 600 - bottom  # risen
    middle = source.crop((round(left), round(top), round(right), round(bottom))).resize(whole.size)

    assert mean_difference(frames[0], whole) < 6
    assert mean_difference(frames[4], middle) < 8
    assert mean_difference(frames[4], whole) > mean_difference(frames[4], middle) + 4
    # In on the right, out on the left: the way back is not the way in.
    assert effects.zoom_region(800, 600, 2, 8)[0] > effects.zoom_region(800, 600, 6, 8)[0]
    assert mean_difference(frames[2], frames[6]) > 4
    # The loop closes: the last frame is on its way back to the first.
    assert mean_difference(frames[-1], frames[0]) < mean_difference(frames[4], frames[0])


def test_spin_is_a_turning_disc_with_transparent_corners(photo: bytes) -> None:
    gif = effects.make_gif(photo, "spin", box=400, frames=4, frame_ms=80)
    frames = frames_of(gif.data)
    side = gif.width

    for frame in frames:
        assert frame.getpixel((0, 0))[3] == 0  # corners outside the disc
        assert frame.getpixel((side - 1, side - 1))[3] == 0
        assert frame.getpixel((side // 2, side // 2))[3] == 255  # the disc itself
        assert frame.getpixel((side // 2, 3))[3] == 255
    # A quarter turn clockwise per frame (4 frames): frame 1 is frame 0 turned by 90 degrees.
    turned = frames[0].rotate(-90)
    inner = (side // 4, side // 4, 3 * side // 4, 3 * side // 4)
    assert mean_difference(frames[1].crop(inner), turned.crop(inner)) < 6
    assert mean_difference(frames[1].crop(inner), frames[0].crop(inner)) > 15


# --- every kind of input -----------------------------------------------------------------------


@pytest.mark.parametrize("effect", NAMES)
def test_png_with_alpha_keeps_its_transparent_pixels_in_every_frame(effect: str) -> None:
    data = imagegen.png(320, 240, alpha=True)  # transparent in the middle, opaque at the edges
    gif = effects.make_gif(data, effect, box=400, frames=6, frame_ms=80)
    frames = frames_of(gif.data)

    assert len(frames) == 6
    for frame in frames:
        levels = frame.getchannel("A").histogram()
        assert levels[0] > 0
        assert levels[255] > 0
        assert not any(levels[1:255])  # GIF transparency is on or off
        assert frame.getpixel((gif.width // 2, gif.height // 2))[3] == 0
    if effect == "hue":  # it does not move: the mask is the picture's, thresholded at 50%
        source_alpha = Image.open(io.BytesIO(data)).getchannel("A")
        expected = source_alpha.point(lambda a: 255 if a >= effects.ALPHA_THRESHOLD else 0)
        agree = ImageChops.difference(expected, frames[0].getchannel("A")).histogram()[0]
        assert agree / (320 * 240) > 0.99
    if effect == "zoom":
        assert frames[0].getpixel((2, 2))[3] == 255  # an opaque corner stays opaque


def test_moving_transparent_pixels_leave_no_trail() -> None:
    data = imagegen.png(320, 240, alpha=True)
    rendered, _ = effects.render_frames(data, "zoom", box=400, frames=8)
    gif = effects.make_gif(data, "zoom", box=400, frames=8, frame_ms=80)

    for made, shown in zip(rendered, frames_of(gif.data), strict=True):
        expected = made.getchannel("A").point(lambda a: 255 if a >= effects.ALPHA_THRESHOLD else 0)
        agree = ImageChops.difference(expected, shown.getchannel("A")).histogram()[0]
        assert agree / (shown.width * shown.height) > 0.99


def test_opaque_colours_of_an_alpha_png_are_composited_over_white() -> None:
    image = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    image.paste((0, 0, 255, 160), (50, 0, 100, 100))  # 63% opaque blue on the right
    gif = effects.make_gif(imagegen.encode(image, "PNG"), "hue", box=100, frames=2, frame_ms=80)
    first = frames_of(gif.data)[0]

    assert first.getpixel((10, 50))[3] == 0
    red, green, blue, alpha = first.getpixel((80, 50))
    assert alpha == 255
    assert blue == 255  # blue at 63% over white
    assert 80 <= red <= 110
    assert 80 <= green <= 110


@pytest.mark.parametrize("effect", NAMES)
def test_exif_orientation_is_applied(effect: str) -> None:
    # Stored 400x200 with "rotate 90 CW to view": upright it is 200x400.
    data = imagegen.jpeg_with_orientation(400, 200, 6)
    gif = effects.make_gif(data, effect, box=400, frames=4, frame_ms=80)

    assert (gif.width, gif.height) == ((200, 200) if effect == "spin" else (200, 400))


def test_exif_orientation_turns_the_pixels_too() -> None:
    data = imagegen.jpeg_with_orientation(640, 480, 3)  # upside down as stored
    gif = effects.make_gif(data, "hue", box=400, frames=2, frame_ms=80)
    stored = Image.open(io.BytesIO(data))
    upright = ImageOps.exif_transpose(stored).resize((gif.width, gif.height))
    first = frames_of(gif.data)[0]

    assert mean_difference(first, upright) < 6
    assert mean_difference(first, stored.resize((gif.width, gif.height))) > 15


def test_cmyk_jpeg_comes_out_in_the_right_colours() -> None:
    picture = imagegen.photo(640, 480)
    data = imagegen.encode(picture.convert("CMYK"), "JPEG", quality=92)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"

    gif = effects.make_gif(data, "hue", box=400, frames=4, frame_ms=80)
    first = frames_of(gif.data)[0]
    expected = picture.resize((gif.width, gif.height))
    assert mean_difference(first, expected) < 8
    inverted = ImageChops.invert(expected)
    assert mean_difference(first, inverted) > 40
    for effect in ("zoom", "spin"):
        assert effects.make_gif(data, effect, box=400, frames=4, frame_ms=80).frames == 4


def test_an_srgb_profile_changes_nothing_and_a_broken_one_is_ignored() -> None:
    picture = imagegen.photo(320, 240)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (srgb, b"not a profile at all"):
        data = imagegen.encode(picture, "JPEG", quality=92, icc_profile=icc)
        gif = effects.make_gif(data, "hue", box=400, frames=2, frame_ms=80)
        assert mean_difference(frames_of(gif.data)[0], picture) < 6


def test_colours_are_converted_to_srgb_with_the_embedded_profile() -> None:
    # A profile whose first channel is sRGB's blue primary and third its red: a viewer that
    # honours it shows red and blue swapped, and so must the GIF (which has no profile).
    srgb_red, srgb_green, srgb_blue = (
        (0.4361, 0.2225, 0.0139),
        (0.3851, 0.7169, 0.0971),
        (0.1431, 0.0606, 0.7141),
    )
    picture = imagegen.photo(320, 240)
    data = imagegen.encode(
        picture, "JPEG", quality=92, icc_profile=icc_rgb_profile(srgb_blue, srgb_green, srgb_red)
    )
    gif = effects.make_gif(data, "hue", box=400, frames=2, frame_ms=80)
    first = frames_of(gif.data)[0]
    red, green, blue = picture.split()

    assert mean_difference(first, Image.merge("RGB", (blue, green, red))) < 10
    assert mean_difference(first, picture) > 25


def test_palette_and_greyscale_inputs_work() -> None:
    palette_png = imagegen.encode(imagegen.photo(200, 150).quantize(32), "PNG")
    grey_jpeg = imagegen.encode(imagegen.photo(200, 150).convert("L"), "JPEG")
    sixteen_bit = imagegen.encode(
        imagegen.photo(200, 150).convert("L").convert("I").point(lambda v: v * 257).convert("I;16"),
        "PNG",
    )
    for data in (palette_png, grey_jpeg, sixteen_bit):
        gif = effects.make_gif(data, "zoom", box=400, frames=4, frame_ms=80)
        first = frames_of(gif.data)[0]
        source = Image.open(io.BytesIO(data))
        if source.mode.startswith("I"):
            source = source.point(lambda v: v / 257).convert("L")
        assert mean_difference(first, source.convert("RGB").resize(first.size)) < 10


def test_an_animated_input_uses_its_first_frame() -> None:
    data = imagegen.gif(160, 120, frames=3)
    gif = effects.make_gif(data, "hue", box=400, frames=2, frame_ms=80)
    first = frames_of(gif.data)[0]
    with Image.open(io.BytesIO(data)) as source:
        frame0 = source.convert("RGB")
        source.seek(1)
        frame1 = source.convert("RGB")

    assert mean_difference(first, frame0) < 4
    assert mean_difference(first, frame1) > mean_difference(first, frame0) + 5


def test_identical_frames_are_merged_with_their_time_added() -> None:
    grey = imagegen.encode(imagegen.photo(200, 150).convert("L"), "JPEG")
    gif = effects.make_gif(grey, "hue", box=400, frames=8, frame_ms=80)  # greys have no hue

    assert gif.frames == 1
    with Image.open(io.BytesIO(gif.data)) as image:
        assert image.n_frames == 1
        assert image.info["duration"] == 8 * 80
        assert image.info["loop"] == 0


# --- how it is made ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effect", "work"), [("zoom", (520, 390)), ("spin", (400, 400)), ("hue", (400, 300))]
)
def test_the_work_image_is_what_the_effect_needs(effect: str, work: tuple[int, int]) -> None:
    image, layout = effects.prepare(imagegen.jpeg(4000, 3000), effects.EFFECTS[effect], 400)

    assert image.size == layout.work == work
    assert image.mode == "RGB"


@pytest.mark.parametrize(
    ("effect", "decoded"), [("zoom", (1000, 750)), ("spin", (1000, 750)), ("hue", (500, 375))]
)
def test_a_large_jpeg_is_scaled_while_decoding(
    monkeypatch: pytest.MonkeyPatch, effect: str, decoded: tuple[int, int]
) -> None:
    sizes: set[tuple[int, int]] = set()
    load = JpegImagePlugin.JpegImageFile.load

    def recording_load(self: JpegImagePlugin.JpegImageFile) -> object:
        sizes.add(self.size)
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", recording_load)
    effects.make_gif(imagegen.jpeg(4000, 3000), effect, box=400, frames=2, frame_ms=80)

    assert sizes == {decoded}  # 1/4 or 1/8 of 4000x3000, never the full picture


@pytest.mark.parametrize("effect", NAMES)
def test_frames_share_one_colour_table_unless_their_colours_turn(photo: bytes, effect: str) -> None:
    gif = effects.make_gif(photo, effect, box=400, frames=6, frame_ms=80)

    assert local_colour_tables(gif.data) == (5 if effect == "hue" else 0)


def test_importing_effects_does_not_import_pillow() -> None:
    code = "import sys, imgsvc.effects; assert 'PIL' not in sys.modules, 'PIL imported'"
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": "lambda_src"}
    )


def test_save_one_gif_per_effect_for_a_person_to_look_at(photo: bytes) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    alpha = imagegen.png(320, 240, alpha=True)
    for effect in effects.EFFECTS:
        gif = effects.make_gif(photo, effect, box=400, frames=16, frame_ms=80)
        (ARTIFACTS / f"{effect}.gif").write_bytes(gif.data)
        with_alpha = effects.make_gif(alpha, effect, box=400, frames=16, frame_ms=80)
        (ARTIFACTS / f"{effect}-alpha.gif").write_bytes(with_alpha.data)
        assert (ARTIFACTS / f"{effect}.gif").stat().st_size == len(gif.data)

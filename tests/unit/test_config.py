"""Configuration from environment variables: defaults, parsing, and refusals naming the variable."""

from __future__ import annotations

import pytest

from imgsvc import config


def test_defaults() -> None:
    cfg = config.from_env({})
    assert cfg.max_body_bytes == 4_500_000
    assert cfg.max_pixels == 50_000_000
    assert cfg.max_upload_bytes == 25 * 1024 * 1024
    assert cfg.rendition_sides == (64, 100, 128, 200, 256, 400, 512, 800, 1024, 1600, 2048)
    assert cfg.rendition_max_age == 1_209_600
    assert (cfg.gif_box, cfg.gif_frames, cfg.gif_frame_ms) == (400, 16, 80)


def test_values_are_parsed() -> None:
    cfg = config.from_env(
        {
            config.MAX_PIXELS: "1000",
            config.RENDITION_SIZES: "100, 200",
            config.GIF_EFFECTS: "zoom,hue",
            config.CORS_ORIGINS: "https://a.example, https://b.example",
            config.API_BASE_URL: "https://api.example/",
            config.GIF_FRAME_MS: "120",
        }
    )
    assert cfg.max_pixels == 1000
    assert cfg.rendition_sides == (100, 200)
    assert cfg.gif_effects == ("zoom", "hue")
    assert cfg.cors_origins == ("https://a.example", "https://b.example")
    assert cfg.api_base_url == "https://api.example"
    assert cfg.gif_frame_ms == 120


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (config.MAX_PIXELS, "lots"),
        (config.MAX_BODY_BYTES, "0"),
        (config.MAX_UPLOAD_BYTES, "-5"),
        (config.GIF_FRAME_MS, "75"),
        (config.GIF_FRAME_MS, "10"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        config.from_env({name: value})

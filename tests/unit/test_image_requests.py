"""Request bodies: raw and multipart forms, metadata headers, names."""

from __future__ import annotations

import pytest
from requests_toolbelt import MultipartEncoder

from imgsvc.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from imgsvc.image_requests import parse_image_request, sanitize_name
from tests.support import imagegen


def parse(
    body: bytes,
    headers: dict[str, str | list[str]],
    name: str | None = None,
    limit: int = 10**7,
):
    """``headers`` as API Gateway's multiValueHeaders, a lone value standing for a list of one."""
    values = {k: [v] if isinstance(v, str) else v for k, v in headers.items()}
    return parse_image_request(body=body, headers=values, name=name, max_bytes=limit)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("/abs/path/photo.webp", "photo.webp"),
        ("evil\x00name\r\n.gif", "evilname.gif"),
        (".hidden.jpg", "hidden.jpg"),
        ("  spaced name.jpg  ", "spaced name.jpg"),
        ("..", None),
        ("../", None),
        ("", None),
        (None, None),
    ],
)
def test_names_lose_path_parts_and_control_characters(
    raw: str | None, expected: str | None
) -> None:
    assert sanitize_name(raw) == expected


def test_names_over_255_characters_are_refused_not_cut() -> None:
    assert sanitize_name("a" * 250 + ".jpeg") == "a" * 250 + ".jpeg"
    with pytest.raises(BadRequest) as caught:
        sanitize_name("a" * 251 + ".jpeg")
    assert caught.value.code == "invalid_name"


def test_raw_body_with_meta_headers() -> None:
    data = imagegen.jpeg(64, 48)
    upload = parse(
        data,
        {"content-type": "image/jpeg", "x-meta-author": "Ann", "x-meta-Category": " cats "},
        name="cat.jpg",
    )
    assert upload.data == data
    assert upload.name == "cat.jpg"
    assert upload.metadata == {"author": "Ann", "category": "cats"}
    assert upload.metadata_given


def test_multipart_form_gives_image_name_and_text_parts_as_metadata() -> None:
    data = imagegen.png(40, 30)
    form = MultipartEncoder(
        fields={
            "image": ("../dir/pic.png", data, "image/png"),
            "author": "Bo",
            "category": "birds",
        }
    )
    upload = parse(form.to_string(), {"content-type": form.content_type, "x-meta-place": "Oslo"})
    assert upload.data == data
    assert upload.name == "pic.png"
    assert upload.metadata == {"place": "Oslo", "author": "Bo", "category": "birds"}


def test_query_name_wins_over_the_form_filename() -> None:
    form = MultipartEncoder(fields={"image": ("form.png", b"x", "image/png")})
    upload = parse(form.to_string(), {"content-type": form.content_type}, name="query.png")
    assert upload.name == "query.png"


def test_body_over_the_limit_is_413_pointing_to_direct_uploads() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        parse(b"\xff" * 1001, {"content-type": "image/jpeg"}, limit=1000)
    assert "POST /uploads" in caught.value.message


@pytest.mark.parametrize("headers", [{}, {"content-type": " "}, {"x-meta-a": "1"}])
def test_a_raw_body_without_content_type_is_415_asking_for_one(
    headers: dict[str, str | list[str]],
) -> None:
    """API Gateway passes a body as binary only for a binary media type: without one the bytes
    would arrive mangled, so the client is told to say what it sends."""
    with pytest.raises(UnsupportedMediaType) as caught:
        parse(imagegen.jpeg(32, 32), headers)
    assert caught.value.code == "missing_content_type"
    for accepted in ("image/jpeg", "image/png", "image/gif", "image/webp", "multipart/form-data"):
        assert accepted in caught.value.message


def test_an_empty_body_without_content_type_is_left_to_the_empty_body_check() -> None:
    assert parse(b"", {}).data == b""


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "video/mp4"])
def test_non_image_content_types_are_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse(imagegen.jpeg(32, 32), {"content-type": content_type})


@pytest.mark.parametrize(
    "headers",
    [
        {"x-meta-": "empty key"},
        {"x-meta-bad key": "space"},
        {"x-meta-ünïcode": "key"},
        {"x-meta-note": "x" * 1025},
        {"x-meta-note": "bell\x07"},
        {f"x-meta-k{i}": "v" for i in range(33)},
    ],
    ids=["empty-key", "space", "non-ascii-key", "long-value", "control-char", "too-many"],
)
def test_bad_metadata_is_400(headers: dict[str, str]) -> None:
    with pytest.raises(BadRequest) as caught:
        parse(imagegen.jpeg(32, 32), {"content-type": "image/jpeg", **headers})
    assert caught.value.code == "invalid_metadata"


@pytest.mark.parametrize(
    "value", ["é", "Ã©", "日本", "no\u00a0break"], ids=["e-acute", "mojibake", "cjk", "nbsp"]
)
def test_non_ascii_metadata_headers_are_400_pointing_to_form_fields(value: str) -> None:
    """Header values are bytes whose charset nobody states (ours arrive as Latin-1): one that is
    not ASCII would be stored garbled, so the client is sent to a form field instead."""
    with pytest.raises(BadRequest) as caught:
        parse(imagegen.jpeg(32, 32), {"content-type": "image/jpeg", "x-meta-author": value})
    assert caught.value.code == "invalid_metadata"
    assert "x-meta-author" in caught.value.message
    assert "multipart/form-data" in caught.value.message


def test_non_ascii_metadata_in_form_fields_is_kept() -> None:
    form = MultipartEncoder(fields={"image": ("a.png", b"x", "image/png"), "author": "Zoë 日本"})
    upload = parse(form.to_string(), {"content-type": form.content_type, "x-meta-place": "Oslo"})
    assert upload.metadata == {"place": "Oslo", "author": "Zoë 日本"}


@pytest.mark.parametrize(
    "headers",
    [{"x-meta-a": ["1", "2"]}, {"x-meta-a": ["1"], "x-meta-A": ["2"]}],
    ids=["one-name", "names-differing-in-case"],
)
def test_a_metadata_header_sent_twice_is_400_not_merged(headers: dict[str, list[str]]) -> None:
    with pytest.raises(BadRequest) as caught:
        parse(imagegen.jpeg(32, 32), {"content-type": "image/jpeg", **headers})
    assert caught.value.code == "invalid_metadata"
    assert "'a' is given twice" in caught.value.message


def test_duplicate_metadata_between_header_and_form_is_400() -> None:
    form = MultipartEncoder(fields={"image": ("a.png", b"x", "image/png"), "author": "A"})
    with pytest.raises(BadRequest):
        parse(form.to_string(), {"content-type": form.content_type, "x-meta-author": "B"})


def test_multipart_without_image_part_is_400() -> None:
    form = MultipartEncoder(fields={"author": "A"})
    with pytest.raises(BadRequest) as caught:
        parse(form.to_string(), {"content-type": form.content_type})
    assert caught.value.code == "missing_image_part"


def test_multipart_with_two_image_parts_is_400() -> None:
    form = MultipartEncoder(
        fields=[("image", ("a.png", b"x", "image/png")), ("image", ("b.png", b"y", "image/png"))]
    )
    with pytest.raises(BadRequest):
        parse(form.to_string(), {"content-type": form.content_type})


def test_malformed_multipart_is_400() -> None:
    with pytest.raises(BadRequest) as caught:
        parse(b"garbage", {"content-type": "multipart/form-data"})
    assert caught.value.code == "malformed_form"


def test_multipart_body_that_does_not_match_its_boundary_is_400() -> None:
    with pytest.raises(BadRequest) as caught:
        parse(b"no parts here", {"content-type": "multipart/form-data; boundary=abc"})
    assert caught.value.code == "malformed_form"


def test_multipart_cut_before_its_closing_boundary_is_400_not_stored_with_extra_bytes() -> None:
    # Cut right after the image part: its bytes look complete (JPEG decoders ignore a trailing
    # CRLF), but the form is truncated, and storing the part would add bytes the file lacks.
    data = imagegen.jpeg(32, 24)
    form = MultipartEncoder(fields={"image": ("a.jpg", data, "image/jpeg")})
    body = form.to_string()
    closing = f"--{form.boundary_value}--\r\n".encode()
    assert body.endswith(closing)
    with pytest.raises(BadRequest) as caught:
        parse(body[: -len(closing)], {"content-type": form.content_type})
    assert caught.value.code == "malformed_form"
    assert "closing boundary" in caught.value.message


def test_rfc_2231_encoded_part_names_and_filenames_are_decoded() -> None:
    # name*= / filename*= (RFC 2231, what some clients send for non-ASCII file names): the
    # email parser gives these as (charset, language, value) triples, not strings.
    boundary = "b0undary"
    image = "name*=utf-8''image; filename*=utf-8''%C3%A9t%C3%A9.jpg"
    head = f"--{boundary}\r\nContent-Disposition: form-data; {image}\r\n\r\n"
    author = f"--{boundary}\r\nContent-Disposition: form-data; name*=utf-8''author\r\n\r\nAnn"
    tail = f"\r\n{author}\r\n--{boundary}--\r\n"
    body = head.encode() + imagegen.jpeg(32, 24) + tail.encode()
    upload = parse(body, {"content-type": f"multipart/form-data; boundary={boundary}"})
    assert upload.name == "été.jpg"
    assert upload.metadata == {"author": "Ann"}

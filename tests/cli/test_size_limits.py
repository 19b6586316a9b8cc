"""The CLI never sends the API a body over the API's limit: past it, API Gateway answers its own
JSON or plain-text 413 (docs/api-limits.md). New images over the limit go straight to storage; a
stage with a lower limit than the CLI assumes is found out from the function's JSON 413, and the
same image then goes straight to storage too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imgsvc_cli.main import DEFAULT_MAX_API_BYTES, ENV_MAX_API_BYTES, EXIT_API, EXIT_OK
from tests.cli.conftest import Scripted
from tests.cli.test_main import IMAGE_ID, record, run, upload_ticket
from tests.support import imagegen


def processed(server: Scripted, data: bytes) -> None:
    """The direct upload was processed, and the image's record is ``data``'s."""
    status = {"id": IMAGE_ID, "status": "processed"}
    server.route("GET", f"/uploads/{IMAGE_ID}", 200, json.dumps(status).encode())
    server.route("GET", f"/images/{IMAGE_ID}", 200, json.dumps(record(data)).encode())


def paths(server: Scripted) -> list[str]:
    return [f"{seen.method} {seen.path}" for seen in server.seen]


def test_a_file_over_the_limit_goes_straight_to_storage(scripted: Scripted, tmp_path: Path) -> None:
    image = tmp_path / "big.png"
    image.write_bytes(imagegen.png(64, 48))
    upload_ticket(scripted)
    processed(scripted, image.read_bytes())
    limit = str(image.stat().st_size - 1)
    code, out, err = run("--url", scripted.url, "upload", str(image), "--max-api-bytes", limit)
    assert code == EXIT_OK, err
    assert IMAGE_ID in out
    assert "POST /images" not in paths(scripted)  # never tried the API
    assert paths(scripted)[:2] == ["POST /uploads", "POST /s3"]


def test_the_limit_comes_from_the_environment(
    scripted: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = tmp_path / "big.png"
    image.write_bytes(imagegen.png(64, 48))
    upload_ticket(scripted)
    processed(scripted, image.read_bytes())
    monkeypatch.setenv(ENV_MAX_API_BYTES, "100")
    code, _, err = run("--url", scripted.url, "upload", str(image))
    assert code == EXIT_OK, err
    assert paths(scripted)[0] == "POST /uploads"


def test_a_bad_limit_in_the_environment_is_a_usage_error(
    scripted: Scripted,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(imagegen.png(8, 8))
    monkeypatch.setenv(ENV_MAX_API_BYTES, "4.5MB")
    with pytest.raises(SystemExit) as exited:
        run("--url", scripted.url, "upload", str(image))
    assert exited.value.code == 2
    assert ENV_MAX_API_BYTES in capsys.readouterr().err
    assert scripted.seen == []


def test_the_functions_413_sends_the_same_image_straight_to_storage(
    scripted: Scripted, tmp_path: Path
) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(imagegen.png(64, 48))
    refused = {"error": {"code": "payload_too_large", "message": "The body is too large."}}
    scripted.route(
        "POST", "/images", 413, json.dumps(refused).encode(), Content_Type="application/json"
    )
    upload_ticket(scripted)
    processed(scripted, image.read_bytes())
    code, out, err = run("--url", scripted.url, "upload", str(image))
    assert code == EXIT_OK, err
    assert IMAGE_ID in out
    assert paths(scripted)[:3] == ["POST /images", "POST /uploads", "POST /s3"]


def test_another_413_is_not_retried(scripted: Scripted, tmp_path: Path) -> None:
    """API Gateway's own 413 (plain text) means the body was over 10 MB, which the CLI never
    sends under its limit: it is reported, not worked around."""
    image = tmp_path / "a.png"
    image.write_bytes(imagegen.png(64, 48))
    scripted.route("POST", "/images", 413, b"HTTP content length exceeded 10485760 bytes.")
    code, _, err = run("--url", scripted.url, "upload", str(image))
    assert code == EXIT_API
    assert "413" in err
    assert paths(scripted) == ["POST /images"]


def test_a_version_over_the_limit_is_not_sent(scripted: Scripted, tmp_path: Path) -> None:
    image = tmp_path / "big.png"
    image.write_bytes(imagegen.png(64, 48))
    limit = str(image.stat().st_size - 1)
    code, _, err = run(
        "--url", scripted.url, "update", IMAGE_ID, str(image), "--max-api-bytes", limit
    )
    assert code == EXIT_API
    assert "payload_too_large (HTTP 413)" in err
    assert f"imgsvc upload {image}" in err
    assert scripted.seen == []


def test_the_default_is_the_services_default() -> None:
    from imgsvc.config import DEFAULT_MAX_BODY_BYTES

    assert DEFAULT_MAX_API_BYTES == DEFAULT_MAX_BODY_BYTES


def test_a_file_at_the_limit_whose_form_is_over_it_goes_straight_to_storage(
    scripted: Scripted, tmp_path: Path
) -> None:
    """The API's limit counts the whole body: the multipart form's boundaries, part headers and
    metadata fields too, not only the file's bytes."""
    image = tmp_path / "edge.png"
    image.write_bytes(imagegen.png(64, 48))
    upload_ticket(scripted)
    processed(scripted, image.read_bytes())
    limit = str(image.stat().st_size)  # the file fits; the form around it does not
    code, _, err = run(
        "--url", scripted.url, "upload", str(image), "--max-api-bytes", limit, "--meta", "k=v"
    )
    assert code == EXIT_OK, err
    assert "POST /images" not in paths(scripted)


def test_a_version_at_the_limit_whose_form_is_over_it_is_not_sent(
    scripted: Scripted, tmp_path: Path
) -> None:
    image = tmp_path / "edge.png"
    image.write_bytes(imagegen.png(64, 48))
    limit = str(image.stat().st_size)
    code, _, err = run(
        "--url", scripted.url, "update", IMAGE_ID, str(image), "--max-api-bytes", limit
    )
    assert code == EXIT_API
    assert "payload_too_large (HTTP 413)" in err
    assert scripted.seen == []

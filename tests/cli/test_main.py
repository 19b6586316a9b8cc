"""The CLI in-process: argument errors, polling, file names, and over real HTTP the answers the
real service never gives (a download that does not match its record, S3's XML errors, API
Gateway's own errors). The commands against the real local mode are in tests/http/test_cli.py."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from imgsvc_cli.client import WaitTimeout, content_type_of, poll
from imgsvc_cli.main import (
    EXIT_API,
    EXIT_INTEGRITY,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    main,
    safe_filename,
)
from tests.cli.conftest import Scripted
from tests.support import imagegen

IMAGE_ID = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"


class Terminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def run(*argv: str, stdout: io.TextIOWrapper | None = None) -> tuple[int, str, str]:
    """main(argv) with captured output; returns (exit code, stdout text, stderr text)."""
    out = stdout or io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    out.flush()
    raw: bytes = out.buffer.getvalue()  # type: ignore[attr-defined]
    return code, raw.decode("utf-8", "replace"), err.getvalue()


def record(data: bytes, **changes: Any) -> dict[str, Any]:
    return {
        "id": IMAGE_ID,
        "version": 1,
        "name": "photo.jpg",
        "content_type": "image/jpeg",
        "width": 20,
        "height": 10,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "metadata": {},
        "created_at": "2026-01-01T00:00:00Z",
        "url": f"/images/{IMAGE_ID}/content?version=1",
        **changes,
    }


def serve_image(server: Scripted, stored: bytes, served: bytes) -> None:
    """The record says ``stored``; the bytes behind the content URL are ``served``."""
    server.route("GET", f"/images/{IMAGE_ID}", 200, json.dumps(record(stored)).encode())
    server.route("GET", f"/images/{IMAGE_ID}/content?version=1", 302, Location=f"{server.url}/blob")
    server.route("GET", "/blob", 200, served, Content_Type="image/jpeg")


# -- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["upload", "missing.jpg"], "no such file: missing.jpg"),
        (["upload", "."], "not a file: ."),
        (["upload", "{image}", "--meta", "author"], "expected KEY=VALUE"),
        (["upload", "{image}", "--meta", "=x"], "expected KEY=VALUE"),
        (["upload", "{image}", "--meta", "a=1", "--meta", "A=2"], "'A' is given twice"),
        (["update", IMAGE_ID, "missing.png"], "no such file"),
        (["get", IMAGE_ID, "--version", "0"], "from 1"),
        (["download", IMAGE_ID, "--version", "v2"], "from 1"),
        (["get", IMAGE_ID, "--version", "\u0661"], "from 1"),  # an Arabic-Indic 1: not ASCII
        (["gifs", IMAGE_ID, "--wait", "--timeout", "-1"], "positive number of seconds"),
        (["--request-timeout", "nan", "get", IMAGE_ID], "positive number of seconds"),
        (["--url", "ftp://example.com", "get", IMAGE_ID], "must start with http://"),
        (["resize-url", IMAGE_ID], "required: SIZE"),
        (["frobnicate"], "invalid choice"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "a.jpg"
    image.write_bytes(imagegen.jpeg(20, 10))
    with pytest.raises(SystemExit) as exited:
        main([arg.replace("{image}", str(image)) for arg in argv])
    assert exited.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_options_work_before_and_after_the_command(scripted: Scripted) -> None:
    data = imagegen.jpeg(20, 10)
    serve_image(scripted, data, data)
    before = run("--json", "--url", scripted.url, "get", IMAGE_ID)
    after = run("get", IMAGE_ID, "--url", scripted.url, "--json")
    assert before[0] == after[0] == EXIT_OK
    assert json.loads(before[1]) == json.loads(after[1]) == record(data)


def test_url_and_api_key_come_from_the_environment_and_flags_win(
    scripted: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = imagegen.jpeg(20, 10)
    serve_image(scripted, data, data)
    monkeypatch.setenv("IMGSVC_URL", scripted.url)
    monkeypatch.setenv("IMGSVC_API_KEY", "from-env")
    assert run("get", IMAGE_ID)[0] == EXIT_OK
    assert run("--api-key", "from-flag", "get", IMAGE_ID)[0] == EXIT_OK
    monkeypatch.setenv("IMGSVC_URL", "http://127.0.0.1:9")  # the flag wins over a dead env URL
    assert run("--url", scripted.url, "get", IMAGE_ID)[0] == EXIT_OK
    keys = [seen.headers.get("x-api-key") for seen in scripted.seen]
    assert keys == ["from-env", "from-flag", "from-env"]


def test_update_sends_a_file_name_only_when_name_is_given(
    scripted: Scripted, tmp_path: Path
) -> None:
    data = imagegen.png(20, 10)
    scripted.route("PUT", f"/images/{IMAGE_ID}", 200, json.dumps(record(data)).encode())
    image = tmp_path / "edited.png"
    image.write_bytes(data)
    for extra in ([], ["--name", "b.png"]):
        assert run("--url", scripted.url, "update", IMAGE_ID, str(image), *extra)[0] == EXIT_OK
    kept, renamed = (seen.body for seen in scripted.seen)
    assert b'name="image"\r\n' in kept  # no filename: the service keeps the previous name
    assert b"edited.png" not in kept
    assert b'name="image"; filename="b.png"' in renamed


# -- downloads ----------------------------------------------------------------------------------


def test_the_api_key_is_not_sent_where_the_content_redirects(
    scripted: Scripted, tmp_path: Path
) -> None:
    data = imagegen.jpeg(20, 10)
    serve_image(scripted, data, data)
    code, _, err = run(
        "--url", scripted.url, "--api-key", "secret", "download", IMAGE_ID, "-o", str(tmp_path)
    )
    assert code == EXIT_OK, err
    assert (tmp_path / "photo.jpg").read_bytes() == data
    sent = {seen.path: seen.headers.get("x-api-key") for seen in scripted.seen}
    assert sent[f"/images/{IMAGE_ID}"] == "secret"
    assert sent["/blob"] is None


def test_a_download_that_does_not_match_its_sha256_writes_nothing(
    scripted: Scripted, tmp_path: Path
) -> None:
    stored = imagegen.jpeg(20, 10, seed=1)
    tampered = bytearray(stored)
    tampered[-10] ^= 0xFF
    serve_image(scripted, stored, bytes(tampered))
    target = tmp_path / "out.jpg"
    code, out, err = run("--url", scripted.url, "download", IMAGE_ID, "-o", str(target))
    assert code == EXIT_INTEGRITY
    assert "checksum_mismatch" in err
    assert hashlib.sha256(tampered).hexdigest() in err
    assert list(tmp_path.iterdir()) == []  # no file, no leftover temporary file
    code, out, err = run("--url", scripted.url, "download", IMAGE_ID, "-o", "-")
    assert code == EXIT_INTEGRITY
    assert out == ""  # nothing reached stdout


def test_a_download_with_the_right_bytes_but_a_wrong_size_is_refused(
    scripted: Scripted, tmp_path: Path
) -> None:
    data = imagegen.jpeg(20, 10)
    scripted.route(
        "GET",
        f"/images/{IMAGE_ID}",
        200,
        json.dumps(record(data, size=len(data) + 1)).encode(),
    )
    scripted.route(
        "GET", f"/images/{IMAGE_ID}/content?version=1", 302, Location=f"{scripted.url}/blob"
    )
    scripted.route("GET", "/blob", 200, data)
    code, _, err = run("--url", scripted.url, "download", IMAGE_ID, "-o", str(tmp_path))
    assert code == EXIT_INTEGRITY, err
    assert list(tmp_path.iterdir()) == []


def test_an_output_ending_in_a_separator_is_a_directory_that_must_exist(
    scripted: Scripted, tmp_path: Path
) -> None:
    data = imagegen.jpeg(20, 10)
    serve_image(scripted, data, data)
    missing = f"{tmp_path / 'sub'}/"
    code, out, err = run("--json", "--url", scripted.url, "download", IMAGE_ID, "-o", missing)
    assert code == EXIT_USAGE
    assert out == ""
    assert json.loads(err)["error"]["code"] == "no_such_directory"
    assert list(tmp_path.iterdir()) == []  # no file named "sub", no temporary file

    (tmp_path / "taken").write_bytes(b"a file")
    code, _, err = run("--url", scripted.url, "download", IMAGE_ID, "-o", f"{tmp_path / 'taken'}/")
    assert code == EXIT_USAGE
    assert "is not a directory" in err

    (tmp_path / "sub").mkdir()
    code, _, err = run("--url", scripted.url, "download", IMAGE_ID, "-o", missing)
    assert code == EXIT_OK, err
    assert (tmp_path / "sub" / "photo.jpg").read_bytes() == data


def test_image_bytes_are_not_written_to_a_terminal(scripted: Scripted) -> None:
    data = imagegen.jpeg(20, 10)
    serve_image(scripted, data, data)
    terminal = Terminal(io.BytesIO(), encoding="utf-8")
    code, out, err = run("--url", scripted.url, "download", IMAGE_ID, "-o", "-", stdout=terminal)
    assert code == EXIT_USAGE
    assert "redirect stdout" in err
    assert out == ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\me\\cat.png", "cat.png"),
        (".bashrc", "bashrc"),
        ("a\x00b\x1b[31m.jpg", "ab[31m.jpg"),
        ('what?<"x">.gif', "what___x__.gif"),
        ("..", f"{IMAGE_ID}-v3.jpg"),
        ("dir/", f"{IMAGE_ID}-v3.jpg"),
    ],
)
def test_download_names_are_safe_file_names(name: str, expected: str) -> None:
    assert (
        safe_filename({"id": IMAGE_ID, "version": 3, "name": name, "content_type": "image/jpeg"})
        == expected
    )


# -- errors from other layers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, b'{"message": "Forbidden"}', "http_403 (HTTP 403): Forbidden"),
        (
            403,
            b"<?xml version='1.0'?><Error><Code>AccessDenied</Code>"
            b"<Message>Request has expired</Message></Error>",
            "AccessDenied (HTTP 403): Request has expired",
        ),
        (500, b"<html><body>\n<h1>Internal   error</h1></body></html>", "http_500 (HTTP 500):"),
        (200, b"<html>not json</html>", "bad_response (HTTP 200)"),
    ],
)
def test_errors_that_are_not_the_services_own_shape_are_still_clear(
    scripted: Scripted, status: int, body: bytes, expected: str
) -> None:
    scripted.route("GET", f"/images/{IMAGE_ID}", status, body)
    code, out, err = run("--url", scripted.url, "get", IMAGE_ID)
    assert code == EXIT_API
    assert out == ""
    assert err.startswith(f"imgsvc: {expected}")


def test_json_mode_prints_errors_as_json_on_stderr(scripted: Scripted) -> None:
    body = {"error": {"code": "image_not_found", "message": "No image."}}
    scripted.route("GET", f"/images/{IMAGE_ID}", 404, json.dumps(body).encode())
    code, out, err = run("--json", "--url", scripted.url, "get", IMAGE_ID)
    assert code == EXIT_API
    assert out == ""
    assert json.loads(err) == {"error": {**body["error"], "status": 404}}


# -- direct uploads and waiting -----------------------------------------------------------------


def upload_ticket(server: Scripted, upload_id: str = IMAGE_ID) -> None:
    ticket = {
        "id": upload_id,
        "upload": {"url": f"{server.url}/s3", "fields": {"key": f"uploads/{upload_id}"}},
        "expires_in": 600,
        "max_bytes": 100_000,
    }
    server.route("POST", "/uploads", 201, json.dumps(ticket).encode())
    server.route("POST", "/s3", 204)


def test_a_rejected_direct_upload_exits_1_with_the_services_reason(
    scripted: Scripted, tmp_path: Path
) -> None:
    upload_ticket(scripted)
    status = {
        "id": IMAGE_ID,
        "status": "rejected",
        "error": {"code": "unprocessable_image", "message": "The image is truncated."},
    }
    scripted.route("GET", f"/uploads/{IMAGE_ID}", 200, json.dumps(status).encode())
    image = tmp_path / "big.png"
    image.write_bytes(imagegen.png(64, 48))
    code, out, err = run(
        "--url",
        scripted.url,
        "--api-key",
        "k",
        "upload",
        "--direct",
        str(image),
        "--meta",
        "author=Ann",
    )
    assert code == EXIT_API
    assert out == ""
    assert err.strip() == "imgsvc: unprocessable_image: The image is truncated."
    ticket_request, form_request = scripted.seen[0], scripted.seen[1]
    assert json.loads(ticket_request.body) == {
        "name": "big.png",
        "content_type": "image/png",
        "metadata": {"author": "Ann"},
    }
    assert ticket_request.headers["x-api-key"] == "k"
    assert "x-api-key" not in form_request.headers  # S3 gets the form, not the key
    # The signed fields come first and the file is the last part, as S3 requires.
    body = form_request.body
    assert body.index(b'name="key"') < body.index(b'name="file"; filename="big.png"')
    assert image.read_bytes() in body


def test_a_file_over_the_tickets_limit_is_not_sent(scripted: Scripted, tmp_path: Path) -> None:
    upload_ticket(scripted)
    image = tmp_path / "huge.png"
    image.write_bytes(imagegen.png(400, 300))  # over the ticket's 100,000 bytes
    code, _, err = run("--url", scripted.url, "upload", "--direct", str(image))
    assert code == EXIT_API
    assert "payload_too_large (HTTP 413)" in err
    assert [seen.path for seen in scripted.seen] == ["/uploads"]


def test_waiting_gives_up_with_exit_4(scripted: Scripted, tmp_path: Path) -> None:
    upload_ticket(scripted)
    pending = {"id": IMAGE_ID, "status": "pending"}
    scripted.route("GET", f"/uploads/{IMAGE_ID}", 200, json.dumps(pending).encode())
    image = tmp_path / "a.png"
    image.write_bytes(imagegen.png(32, 32))
    code, _, err = run("--url", scripted.url, "upload", "--direct", str(image), "--timeout", "0.3")
    assert code == EXIT_TIMEOUT
    assert f"Upload {IMAGE_ID} is still pending" in err

    gifs = {
        "id": IMAGE_ID,
        "version": 1,
        "effects": {
            "zoom": {"status": "ready", "url": "https://cdn/z.gif"},
            "spin": {"status": "pending"},
        },
    }
    scripted.route("GET", f"/images/{IMAGE_ID}/gifs", 200, json.dumps(gifs).encode())
    code, _, err = run("--url", scripted.url, "gifs", IMAGE_ID, "--wait", "--timeout", "0.3")
    assert code == EXIT_TIMEOUT
    assert "still pending: spin" in err


def test_a_failed_effect_is_shown_and_exits_1(scripted: Scripted) -> None:
    gifs = {
        "id": IMAGE_ID,
        "version": 2,
        "effects": {
            "zoom": {"status": "ready", "url": "https://cdn/z.gif"},
            "hue": {"status": "failed"},
        },
    }
    scripted.route("GET", f"/images/{IMAGE_ID}/gifs", 200, json.dumps(gifs).encode())
    code, out, err = run("--url", scripted.url, "gifs", IMAGE_ID, "--wait")
    assert code == EXIT_API
    assert out.splitlines() == ["hue   failed", "zoom  ready    https://cdn/z.gif"]
    assert "effect_failed: These effects failed: hue." in err


def test_poll_backs_off_then_gives_up_at_the_deadline() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    with pytest.raises(WaitTimeout) as gave_up:
        poll(
            lambda: {"n": len(sleeps)},
            lambda _: False,
            timeout=10,
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert sleeps[:4] == pytest.approx([0.25, 0.4, 0.64, 1.024])
    assert max(sleeps) <= 5.0
    assert sum(sleeps) == pytest.approx(10)  # the last sleep is cut to the deadline
    assert gave_up.value.last == {"n": len(sleeps)}


def test_poll_returns_the_first_final_state() -> None:
    states = iter([{"status": "pending"}, {"status": "pending"}, {"status": "processed"}])
    calls: list[float] = []
    final = poll(
        lambda: next(states), lambda s: s["status"] != "pending", timeout=60, sleep=calls.append
    )
    assert final == {"status": "processed"}
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (imagegen.jpeg(16, 16), "x.png", "image/jpeg"),  # bytes win over the extension
        (imagegen.png(16, 16), "x", "image/png"),
        (imagegen.gif(16, 16, frames=2), "x.jpg", "image/gif"),
        (imagegen.webp(16, 16), "x.bin", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "x.wav", "audio/x-wav"),
        (b"plain text", "notes.jpg", "image/jpeg"),  # unknown bytes: the extension decides
        (b"plain text", "notes", "application/octet-stream"),
    ],
)
def test_content_type_comes_from_the_bytes_first(
    tmp_path: Path, data: bytes, name: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert content_type_of(path) == expected

"""The ``imgsvc`` command as a real process against the real local mode: every command's happy
path, its errors and exit codes, streaming and progress."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from imgsvc import keys
from imgsvc_local.resources import Names
from tests.http.conftest import REPO, LocalMode, free_port
from tests.http.support import assert_error
from tests.support import imagegen

pytestmark = pytest.mark.http

UNKNOWN_ID = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"


def cli(
    *args: str,
    url: str | None,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m imgsvc_cli ARGS`` with IMGSVC_URL set to ``url`` (unset if None)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
    if url is not None:
        environment["IMGSVC_URL"] = url
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "imgsvc_cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def as_json(result: subprocess.CompletedProcess[bytes]) -> Any:
    return json.loads(ok(result))


def image_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def route_missing(url: str, method: str, path: str, **kwargs: Any) -> str | None:
    """Why a route of openapi.yaml cannot be tested in this build, or None if it answers."""
    response = requests.request(method, url + path, timeout=30, allow_redirects=False, **kwargs)
    if response.status_code in (404, 501) and response.json()["error"]["code"] in (
        "not_found",  # API Gateway's (and the local gateway's) missing-route answer
        "not_implemented",
    ):
        return f"{method} {path.split('/')[1]} is not in this build yet: {response.text}"
    return None


# -- upload, get, versions, update, delete ------------------------------------------------------


def test_upload_prints_the_record_and_json_parses(local_mode: LocalMode, tmp_path: Path) -> None:
    data = imagegen.jpeg(640, 480, seed=11)
    path = image_file(tmp_path, "holiday.jpg", data)
    plain = ok(cli("upload", str(path), "--meta", "author=Ann", url=local_mode.url))
    lines = dict(line.split(None, 1) for line in plain.splitlines())
    assert lines["version"] == "1"
    assert lines["name"] == "holiday.jpg"
    assert lines["type"] == "image/jpeg, 640x480"
    assert lines["sha256"] == hashlib.sha256(data).hexdigest()
    assert lines["metadata"] == "author=Ann"

    record = as_json(
        cli(
            "--json",
            "upload",
            str(path),
            "--name",
            "renamed.jpg",
            "--meta",
            "author=Bo",
            "--meta",
            "Licence=cc-by",
            url=local_mode.url,
        )
    )
    assert record["name"] == "renamed.jpg"
    assert record["metadata"] == {"author": "Bo", "licence": "cc-by"}
    assert record["size"] == len(data)
    api = requests.get(f"{local_mode.url}/images/{record['id']}", timeout=30).json()
    assert api == record


def test_update_get_and_versions(local_mode: LocalMode, tmp_path: Path) -> None:
    first = image_file(tmp_path, "a.jpg", imagegen.jpeg(320, 240, seed=1))
    second_bytes = imagegen.png(200, 100, seed=2)
    second = image_file(tmp_path, "b.png", second_bytes)
    created = as_json(cli("--json", "upload", str(first), url=local_mode.url))
    image_id = created["id"]

    updated = as_json(
        cli("update", image_id, str(second), "--meta", "author=Cy", "--json", url=local_mode.url)
    )
    assert (updated["id"], updated["version"]) == (image_id, 2)
    assert (updated["content_type"], updated["sha256"]) == (
        "image/png",
        hashlib.sha256(second_bytes).hexdigest(),
    )
    assert updated["metadata"] == {"author": "Cy"}

    assert as_json(cli("--json", "get", image_id, url=local_mode.url)) == updated
    assert as_json(cli("--json", "get", image_id, "--version", "1", url=local_mode.url)) == created
    listing = as_json(cli("--json", "versions", image_id, url=local_mode.url))
    assert listing == {"id": image_id, "versions": [updated, created]}
    table = ok(cli("versions", image_id, url=local_mode.url)).splitlines()
    assert table[0].split() == ["VERSION", "CREATED", "TYPE", "PIXELS", "BYTES", "NAME"]
    assert [row.split()[0] for row in table[1:]] == ["2", "1"]
    assert table[1].split()[2:] == ["image/png", "200x100", f"{len(second_bytes):,}", "a.jpg"]


def test_update_keeps_the_name_unless_given_and_any_meta_replaces_all_metadata(
    local_mode: LocalMode, tmp_path: Path
) -> None:
    first = image_file(tmp_path, "harbour.jpg", imagegen.jpeg(64, 48, seed=1))
    created = as_json(
        cli(
            "--json",
            "upload",
            str(first),
            "--meta",
            "author=Ann",
            "--meta",
            "place=Lisbon",
            url=local_mode.url,
        )
    )
    image_id = created["id"]

    edited = image_file(tmp_path, "IMG_0042-edit.png", imagegen.png(64, 48, seed=2))
    kept = as_json(cli("--json", "update", image_id, str(edited), url=local_mode.url))
    assert (kept["version"], kept["name"]) == (2, "harbour.jpg")
    assert kept["metadata"] == {"author": "Ann", "place": "Lisbon"}

    replaced = as_json(
        cli("--json", "update", image_id, str(edited), "--meta", "author=Bo", url=local_mode.url)
    )
    assert (replaced["version"], replaced["name"]) == (3, "harbour.jpg")
    assert replaced["metadata"] == {"author": "Bo"}  # place=Lisbon is gone

    renamed = as_json(
        cli("--json", "update", image_id, str(edited), "--name", "port.png", url=local_mode.url)
    )
    assert (renamed["version"], renamed["name"]) == (4, "port.png")
    assert renamed["metadata"] == {"author": "Bo"}


def test_delete_then_every_read_is_a_404(local_mode: LocalMode, tmp_path: Path) -> None:
    path = image_file(tmp_path, "gone.jpg", imagegen.jpeg(64, 64))
    image_id = as_json(cli("--json", "upload", str(path), url=local_mode.url))["id"]
    assert ok(cli("delete", image_id, url=local_mode.url)).strip() == f"Deleted {image_id}"
    for command in (["get", image_id], ["versions", image_id], ["download", image_id]):
        result = cli(*command, url=local_mode.url, cwd=tmp_path)
        assert result.returncode == 1
        assert b"image_not_found (HTTP 404)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone.jpg"]
    again = cli("--json", "delete", image_id, url=local_mode.url)
    assert again.returncode == 1
    assert json.loads(again.stderr)["error"]["status"] == 404


# -- downloads ----------------------------------------------------------------------------------


def test_upload_download_round_trip_is_byte_exact(local_mode: LocalMode, tmp_path: Path) -> None:
    data = imagegen.webp(500, 300, seed=5)
    path = image_file(tmp_path, "source.webp", data)
    record = as_json(cli("--json", "upload", str(path), url=local_mode.url))
    target = tmp_path / "copy.webp"
    summary = as_json(
        cli("--json", "download", record["id"], "-o", str(target), url=local_mode.url)
    )
    assert target.read_bytes() == data
    assert summary == {
        "path": str(target),
        "id": record["id"],
        "version": 1,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    piped = cli("download", record["id"], "-o", "-", url=local_mode.url)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == data


def test_download_names_the_file_after_the_record_and_never_overwrites(
    local_mode: LocalMode, tmp_path: Path
) -> None:
    first_bytes, second_bytes = imagegen.jpeg(100, 80, seed=1), imagegen.jpeg(100, 80, seed=2)
    source = image_file(tmp_path, "src.jpg", first_bytes)
    upload = cli("--json", "upload", str(source), "--name", "../../evil/.x.jpg", url=local_mode.url)
    image_id = as_json(upload)["id"]
    second = image_file(tmp_path, "src2.jpg", second_bytes)
    ok(cli("update", image_id, str(second), "--name", "sea.jpg", url=local_mode.url))
    work = tmp_path / "work"
    work.mkdir()

    assert ok(cli("download", image_id, url=local_mode.url, cwd=work)).startswith("Saved sea.jpg")
    assert (work / "sea.jpg").read_bytes() == second_bytes
    ok(cli("download", image_id, "--version", "1", url=local_mode.url, cwd=work))
    assert (work / "x.jpg").read_bytes() == first_bytes  # the server kept "x.jpg" of the name

    (work / "sea.jpg").write_bytes(b"mine")
    refused = cli("download", image_id, url=local_mode.url, cwd=work)
    assert refused.returncode == 2
    assert b"sea.jpg exists: use --force" in refused.stderr
    assert (work / "sea.jpg").read_bytes() == b"mine"
    ok(cli("download", image_id, "--force", url=local_mode.url, cwd=work))
    assert (work / "sea.jpg").read_bytes() == second_bytes

    ok(cli("download", image_id, "--version", "1", "-o", str(tmp_path), url=local_mode.url))
    assert (tmp_path / "x.jpg").read_bytes() == first_bytes
    assert sorted(p.name for p in work.iterdir()) == ["sea.jpg", "x.jpg"]  # no temporary files


# -- errors -------------------------------------------------------------------------------------


def test_unknown_and_malformed_ids_exit_1_with_the_apis_message(local_mode: LocalMode) -> None:
    for image_id, status in ((UNKNOWN_ID, 404), ("not-a-uuid", 400)):
        expected = assert_error(
            requests.get(f"{local_mode.url}/images/{image_id}", timeout=30), status
        )
        result = cli("get", image_id, url=local_mode.url)
        assert result.returncode == 1
        assert result.stdout == b""
        assert result.stderr.decode().strip() == (
            f"imgsvc: {expected['code']} (HTTP {status}): {expected['message']}"
        )
        as_json_error = json.loads(cli("--json", "get", image_id, url=local_mode.url).stderr)
        assert as_json_error == {"error": {**expected, "status": status}}


def test_a_non_image_file_exits_1_with_the_415_message(
    local_mode: LocalMode, tmp_path: Path
) -> None:
    text = image_file(tmp_path, "notes.jpg", b"these are notes, not pixels\n" * 10)
    result = cli("upload", str(text), url=local_mode.url)
    assert result.returncode == 1
    message = result.stderr.decode()
    assert message.startswith("imgsvc: not_an_image (HTTP 415): ")
    assert "image/jpeg" in message  # the API's message says what is accepted


def test_bad_metadata_is_the_apis_400(local_mode: LocalMode, tmp_path: Path) -> None:
    path = image_file(tmp_path, "a.jpg", imagegen.jpeg(32, 32))
    result = cli("upload", str(path), "--meta", "bad key!=x", url=local_mode.url)
    assert result.returncode == 1
    assert b"invalid_metadata (HTTP 400)" in result.stderr


def test_a_missing_file_is_a_usage_error_and_sends_nothing(local_mode: LocalMode) -> None:
    before = local_mode.log.read_text().count('"POST /images"')
    result = cli("upload", "/nonexistent/photo.jpg", url=local_mode.url)
    assert result.returncode == 2
    assert b"no such file: /nonexistent/photo.jpg" in result.stderr
    assert local_mode.log.read_text().count('"POST /images"') == before


def test_connection_refused_exits_3_and_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = cli("get", UNKNOWN_ID, url=url)
    assert result.returncode == 3
    assert result.stderr.decode().startswith(
        f"imgsvc: network_error: Cannot reach {url}: connection refused."
    )
    flag_wins = cli("--url", url, "versions", UNKNOWN_ID, url="http://127.0.0.1:1")
    assert flag_wins.returncode == 3
    assert url.encode() in flag_wins.stderr


def test_a_file_over_the_api_limit_goes_straight_to_storage(
    local_mode: LocalMode, tmp_path: Path
) -> None:
    big = image_file(tmp_path, "big.png", _noise_png(1400))  # ~5.9 MB: over the ~4.5 MB limit
    created = as_json(cli("--json", "upload", str(big), "--timeout", "120", url=local_mode.url))
    assert created["size"] == big.stat().st_size
    assert created["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()
    # It came through a direct upload: its ticket is processed.
    ticket = requests.get(f"{local_mode.url}/uploads/{created['id']}", timeout=30)
    assert ticket.json()["status"] == "processed"


# -- progress -----------------------------------------------------------------------------------


def test_progress_bar_on_a_terminal_and_plain_output_otherwise(
    local_mode: LocalMode, tmp_path: Path
) -> None:
    data = imagegen.jpeg(1200, 900, seed=9)
    path = image_file(tmp_path, "bar.jpg", data)
    quiet = cli("upload", str(path), url=local_mode.url)
    assert quiet.returncode == 0
    assert quiet.stderr == b""  # not a terminal: no bar, no notes

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
    environment["IMGSVC_URL"] = local_mode.url
    process = subprocess.Popen(
        [sys.executable, "-m", "imgsvc_cli", "upload", str(path)],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    assert b"bar.jpg: 100%" in shown  # tqdm drew the bar to the finish
    assert b"sha256" in stdout
    assert hashlib.sha256(data).hexdigest().encode() in stdout


# -- resize-url ---------------------------------------------------------------------------------


def test_resize_url_prints_where_the_resize_route_redirects(
    local_mode: LocalMode, tmp_path: Path
) -> None:
    path = image_file(tmp_path, "r.jpg", imagegen.jpeg(800, 600, seed=3))
    image_id = as_json(cli("--json", "upload", str(path), url=local_mode.url))["id"]
    missing = route_missing(local_mode.url, "GET", f"/resize/256x256/{image_id}")
    if missing:
        result = cli("resize-url", image_id, "256x256", url=local_mode.url)
        assert result.returncode == 1  # the API's error, cleanly
        assert result.stderr.startswith(b"imgsvc: not_implemented (HTTP 501): ")
        pytest.skip(missing)
    expected = requests.get(
        f"{local_mode.url}/resize/256x256/{image_id}", allow_redirects=False, timeout=60
    )
    assert expected.status_code == 302
    url = ok(cli("resize-url", image_id, "256x256", url=local_mode.url)).strip()
    assert url.endswith(expected.headers["Location"])
    rendition = requests.get(url, timeout=60)
    assert rendition.status_code == 200
    assert max(Image.open(io.BytesIO(rendition.content)).size) == 256
    assert as_json(cli("--json", "resize-url", image_id, "256x256", url=local_mode.url)) == {
        "url": url
    }

    bad = cli("resize-url", image_id, "99999x1", url=local_mode.url)
    assert bad.returncode == 1
    assert bad.stderr.startswith(b"imgsvc: invalid_size (HTTP 400): ")
    unknown = cli("resize-url", UNKNOWN_ID, "256x256", url=local_mode.url)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith(b"imgsvc: image_not_found (HTTP 404): ")


# -- gifs ---------------------------------------------------------------------------------------


def test_gifs_wait_until_every_effect_is_done(local_mode: LocalMode, tmp_path: Path) -> None:
    path = image_file(tmp_path, "g.jpg", imagegen.jpeg(320, 240, seed=4))
    image_id = as_json(cli("--json", "upload", str(path), url=local_mode.url))["id"]
    missing = route_missing(local_mode.url, "GET", f"/images/{image_id}/gifs")
    if missing:
        result = cli("gifs", image_id, url=local_mode.url)
        assert result.returncode == 1
        assert b"(HTTP 404)" in result.stderr or b"(HTTP 501)" in result.stderr
        pytest.skip(missing)
    state = as_json(
        cli(
            "--json",
            "gifs",
            image_id,
            "--wait",
            "--timeout",
            "240",
            url=local_mode.url,
            timeout=300,
        )
    )
    assert state == requests.get(f"{local_mode.url}/images/{image_id}/gifs", timeout=30).json()
    assert (state["id"], state["version"]) == (image_id, 1)
    assert state["effects"]
    s3 = local_mode.s3()
    for name, effect in state["effects"].items():
        assert effect["status"] == "ready", name
        key = keys.gif_key(image_id, 1, name)
        assert effect["url"].endswith(f"/{key}")
        stored = s3.get_object(Bucket=Names().renditions, Key=key)["Body"].read()
        assert stored.startswith(b"GIF89a")
        served = requests.get(effect["url"], timeout=60)
        if "CDN is not part of this build" not in served.text:  # the local CDN may land later
            assert served.content == stored
    lines = ok(cli("gifs", image_id, url=local_mode.url)).splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(state["effects"])
    assert all(
        line.split()[1:] == ["ready", state["effects"][line.split()[0]]["url"]] for line in lines
    )
    unknown = cli("gifs", UNKNOWN_ID, url=local_mode.url)
    assert unknown.returncode == 1
    assert b"(HTTP 404)" in unknown.stderr


# -- direct uploads -----------------------------------------------------------------------------


def _noise_png(side: int) -> bytes:
    """An incompressible PNG of ``side`` x ``side`` pixels (about 3 * side**2 bytes)."""
    return imagegen.encode(Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)), "PNG")


def test_direct_upload_streams_a_large_file(local_mode: LocalMode, tmp_path: Path) -> None:
    missing = route_missing(
        local_mode.url, "POST", "/uploads", json={"name": "x.png", "content_type": "image/png"}
    )
    if missing:
        result = cli(
            "upload",
            "--direct",
            str(image_file(tmp_path, "s.png", imagegen.png(8, 8))),
            url=local_mode.url,
        )
        assert result.returncode == 1
        pytest.skip(missing)
    data = _noise_png(1650)  # ~8.2 MB
    path = image_file(tmp_path, "large.png", data)
    record = as_json(
        cli(
            "--json",
            "upload",
            "--direct",
            str(path),
            "--meta",
            "author=Di",
            url=local_mode.url,
            timeout=300,
        )
    )
    assert (record["version"], record["name"], record["size"]) == (1, "large.png", len(data))
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["metadata"] == {"author": "Di"}
    copy = tmp_path / "copy.png"
    ok(cli("download", record["id"], "-o", str(copy), url=local_mode.url))
    assert copy.read_bytes() == data

    # A reader that stops early (`imgsvc download ID -o - | head -c 8`): a quiet exit 141.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
    environment["IMGSVC_URL"] = local_mode.url
    process = subprocess.Popen(
        [sys.executable, "-m", "imgsvc_cli", "download", record["id"], "-o", "-"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdout.read(8) == data[:8]
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 141
    assert stderr == b""

    text = image_file(tmp_path, "fake.png", b"\x89PNG\r\n\x1a\n" + b"not really" * 100)
    rejected = cli("upload", "--direct", str(text), "--timeout", "120", url=local_mode.url)
    assert rejected.returncode == 1
    assert rejected.stderr.startswith(b"imgsvc: ")

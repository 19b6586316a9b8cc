"""``imgsvc``: the command-line client of the image service (see docs/cli.md)."""

from __future__ import annotations

import argparse
import contextlib
import mimetypes
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TextIO

from imgsvc_cli import admin
from imgsvc_cli.client import (
    DEFAULT_URL,
    ApiError,
    Client,
    Json,
    NetworkError,
    WaitTimeout,
    content_type_of,
    poll,
)
from imgsvc_cli.output import Output, gifs_text, record_text, versions_text

EXIT_OK = 0
EXIT_API = 1  # the service said no (its error code and message are printed)
EXIT_USAGE = 2  # bad arguments, a missing input file, an output file that exists
EXIT_NETWORK = 3  # no answer: connection refused, unknown host, timed out
EXIT_TIMEOUT = 4  # waiting (upload --direct, gifs --wait) gave up
EXIT_INTEGRITY = 5  # downloaded bytes differ from the record's sha256/size
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_BROKEN_PIPE = 141  # stdout closed early (`download -o - | head`), as SIGPIPE would

ENV_URL = "IMGSVC_URL"
ENV_API_KEY = "IMGSVC_API_KEY"
ENV_MAX_API_BYTES = "IMGSVC_MAX_API_BYTES"
# The service's default limits.max_body_bytes (lambda_src/imgsvc/config.py).
DEFAULT_MAX_API_BYTES = 4_500_000
SPOOL_BYTES = 16 * 1024 * 1024  # `download -o -` keeps up to this in memory before verifying
_UNSAFE_FILENAME = re.compile(r'[<>:"|?*]')
_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep) if sep)

EPILOG = f"""\
environment:
  {ENV_URL}        API base URL (default {DEFAULT_URL}); --url wins
  {ENV_API_KEY}    API key, sent as x-api-key; --api-key wins
  {ENV_MAX_API_BYTES}  the API's body limit; --max-api-bytes wins

exit codes:
  {EXIT_OK}  ok            {EXIT_API}  API error (code and message printed)
  {EXIT_USAGE}  usage/local   {EXIT_NETWORK}  network (service not reachable)
  {EXIT_TIMEOUT}  wait timeout  {EXIT_INTEGRITY}  download did not match its sha256
"""


class CliError(Exception):
    """A failure with its own exit code, error code and message."""

    def __init__(self, exit_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code
        self.message = message


Command = Callable[[Client, argparse.Namespace, Output], int]


# -- commands ---------------------------------------------------------------------------------


def cmd_upload(client: Client, args: argparse.Namespace, out: Output) -> int:
    path: Path = args.file
    size = path.stat().st_size
    body = client.image_body_bytes(path, name=args.name or path.name, metadata=args.meta)
    if args.direct or body > args.max_api_bytes:
        # Never send the API a body over its limit: past Lambda's 6 MB event API Gateway answers
        # its own JSON 413, past 10 MB a plain-text one (docs/api-limits.md).
        return _upload_direct(client, args, out)
    with out.progress(size, path.name) as progress:
        try:
            record = client.create(path, name=args.name, metadata=args.meta, progress=progress)
        except ApiError as exc:
            if exc.status != 413 or exc.code != "payload_too_large":
                raise
            # This stage's limit is below the one given: the function said so before storing
            # anything, so the same image can go the direct way.
            out.note(f"{exc.message} Uploading {path.name} directly instead.")
            return _upload_direct(client, args, out)
    out.result(record, record_text(record))
    return EXIT_OK


def _upload_direct(client: Client, args: argparse.Namespace, out: Output) -> int:
    path: Path = args.file
    size, content_type = path.stat().st_size, content_type_of(path)
    ticket = client.create_upload(args.name or path.name, content_type, args.meta)
    upload_id, limit = ticket["id"], int(ticket["max_bytes"])
    if size > limit:
        raise ApiError(
            413, "payload_too_large", f"{path} is {size:,} bytes; uploads take at most {limit:,}."
        )
    with out.progress(size, path.name) as progress:
        client.post_form(ticket, path, content_type, progress)
    out.note(f"Uploaded {upload_id}; waiting for the service to process it...")
    try:
        status = poll(
            lambda: client.upload_status(upload_id),
            lambda state: state.get("status") in ("processed", "rejected"),
            timeout=args.timeout,
        )
    except WaitTimeout as exc:
        raise CliError(
            EXIT_TIMEOUT, "timeout", f"Upload {upload_id} is still pending: {exc}."
        ) from None
    if status["status"] == "rejected":
        error = status.get("error") or {}
        raise ApiError(
            None,
            str(error.get("code", "upload_rejected")),
            str(error.get("message", f"The service rejected upload {upload_id}.")),
        )
    record = client.get(upload_id)
    out.result(record, record_text(record))
    return EXIT_OK


def cmd_update(client: Client, args: argparse.Namespace, out: Output) -> int:
    path: Path = args.file
    size = path.stat().st_size
    body = client.image_body_bytes(path, name=args.name, metadata=args.meta)
    if body > args.max_api_bytes:
        # A new version goes through the API only (direct uploads make new images), and a body
        # over the API's limit would only get a 413 (docs/api-limits.md).
        raise ApiError(
            413,
            "payload_too_large",
            f"{path} is {size:,} bytes ({body:,} as a form); a new version goes through the API, "
            "which takes at most "
            f"{args.max_api_bytes:,} (--max-api-bytes). Upload it as a new image instead: "
            f"imgsvc upload {path}",
        )
    with out.progress(size, path.name) as progress:
        record = client.update(args.id, path, name=args.name, metadata=args.meta, progress=progress)
    out.result(record, record_text(record))
    return EXIT_OK


def cmd_get(client: Client, args: argparse.Namespace, out: Output) -> int:
    record = client.get(args.id, args.version)
    out.result(record, record_text(record))
    return EXIT_OK


def cmd_versions(client: Client, args: argparse.Namespace, out: Output) -> int:
    listing = client.versions(args.id)
    out.result(listing, versions_text(listing))
    return EXIT_OK


def cmd_download(client: Client, args: argparse.Namespace, out: Output) -> int:
    record = client.get(args.id, args.version)
    if args.output == "-":
        if out.stdout.isatty():
            raise CliError(
                EXIT_USAGE, "usage", "Not writing image bytes to a terminal: redirect stdout."
            )
        # Spooled, so that nothing reaches stdout unless the sha256 matches.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            _fetch(client, record, spool, out)
            spool.seek(0)
            out.stdout.flush()
            binary: IO[bytes] = out.stdout.buffer
            shutil.copyfileobj(spool, binary)
            binary.flush()
        return EXIT_OK
    target = _target(args.output, record)
    if target.exists() and not args.force:
        raise CliError(EXIT_USAGE, "file_exists", f"{target} exists: use --force to overwrite.")
    temporary = _create_beside(target)
    try:
        with temporary.open("wb") as sink:
            _fetch(client, record, sink, out)
        _publish(temporary, target, force=args.force)
    finally:
        temporary.unlink(missing_ok=True)
    summary = {
        "path": str(target),
        "id": record["id"],
        "version": record["version"],
        "size": record["size"],
        "sha256": record["sha256"],
    }
    out.result(summary, f"Saved {target} ({record['size']:,} bytes, sha256 verified)")
    return EXIT_OK


def _fetch(client: Client, record: Json, sink: IO[bytes], out: Output) -> None:
    with out.progress(int(record["size"]), record["name"]) as progress:
        digest, size = client.download(record["id"], int(record["version"]), sink, progress)
    if digest != record["sha256"] or size != record["size"]:
        raise CliError(
            EXIT_INTEGRITY,
            "checksum_mismatch",
            f"Downloaded {size:,} bytes with sha256 {digest}, but version {record['version']} "
            f"of {record['id']} is {record['size']:,} bytes with sha256 {record['sha256']}. "
            "Nothing was written.",
        )


def cmd_resize_url(client: Client, args: argparse.Namespace, out: Output) -> int:
    url = client.resize_url(args.id, args.size)
    out.result({"url": url}, url)
    return EXIT_OK


def cmd_gifs(client: Client, args: argparse.Namespace, out: Output) -> int:
    if args.wait:
        seen: dict[str, str] = {}

        def report(state: Json) -> None:
            for name, effect in sorted(state.get("effects", {}).items()):
                if seen.get(name) != effect.get("status"):
                    seen[name] = effect.get("status")
                    out.note(f"{name}: {seen[name]}")

        try:
            state = poll(
                lambda: client.gifs(args.id), _gifs_done, timeout=args.timeout, on_state=report
            )
        except WaitTimeout as exc:
            last = exc.last or {}
            pending = [
                n
                for n, e in sorted(last.get("effects", {}).items())
                if e.get("status") not in ("ready", "failed")
            ]
            detail = f"still pending: {', '.join(pending)}" if pending else "no effects listed"
            raise CliError(EXIT_TIMEOUT, "timeout", f"{exc} ({detail}).") from None
    else:
        state = client.gifs(args.id)
    out.result(state, gifs_text(state))
    failed = [n for n, e in sorted(state.get("effects", {}).items()) if e["status"] == "failed"]
    if failed:
        raise CliError(EXIT_API, "effect_failed", f"These effects failed: {', '.join(failed)}.")
    return EXIT_OK


def _gifs_done(state: Json) -> bool:
    effects = state.get("effects") or {}
    return bool(effects) and all(e.get("status") in ("ready", "failed") for e in effects.values())


def cmd_delete(client: Client, args: argparse.Namespace, out: Output) -> int:
    client.delete(args.id)
    out.result({"id": args.id, "deleted": True}, f"Deleted {args.id}")
    return EXIT_OK


# -- files ------------------------------------------------------------------------------------


def safe_filename(record: Json) -> str:
    """The record's name as a local file name: no path parts, no control characters, no
    leading dots; ``<id>-v<version>.<ext>`` if nothing is left."""
    text = re.split(r"[/\\]", str(record.get("name") or ""))[-1]
    text = _UNSAFE_FILENAME.sub("_", "".join(ch for ch in text if ch.isprintable()))
    text = text.strip().lstrip(".").strip()
    if text:
        return text[:255]
    extension = mimetypes.guess_extension(str(record.get("content_type"))) or ""
    return f"{record['id']}-v{record['version']}{extension}"


def _target(output: str | None, record: Json) -> Path:
    """Where ``download`` writes: ``output``, or the record's file name inside it when it is a
    directory. An ``output`` ending in a separator names a directory, which must exist."""
    if output is None:
        return Path(safe_filename(record))
    path = Path(output)
    if path.is_dir():
        return path / safe_filename(record)
    if output.endswith(_SEPARATORS):
        raise CliError(
            EXIT_USAGE,
            "no_such_directory",
            f"{output} is not a directory: create it first, or drop the trailing "
            f"{output[-1]} to write a file of that name.",
        )
    return path


def _create_beside(target: Path) -> Path:
    """A new empty file next to ``target`` (same file system, so publishing is a rename)."""
    temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise CliError(
            EXIT_USAGE, "cannot_write", f"Cannot write to {target.parent}: {exc.strerror}."
        ) from None
    return temporary


def _publish(temporary: Path, target: Path, *, force: bool) -> None:
    """Move the verified file into place; without ``force`` never replace an existing file
    (a hard link fails if the name was taken meanwhile)."""
    if force:
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise CliError(
            EXIT_USAGE, "file_exists", f"{target} exists: use --force to overwrite."
        ) from None
    except OSError:  # no hard links here (some network or FAT file systems)
        if target.exists():
            raise CliError(
                EXIT_USAGE, "file_exists", f"{target} exists: use --force to overwrite."
            ) from None
        os.replace(temporary, target)


# -- arguments --------------------------------------------------------------------------------


def _input_file(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file: {value}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"not a file: {value}")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read: {value}")
    return path


def _meta(value: str) -> tuple[str, str]:
    key, sep, text = value.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key.strip(), text


def _positive_int(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1, got {value!r}")
    return int(value)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    # Shared options work before and after the command (`imgsvc --json get ID`, `... get ID
    # --json`); SUPPRESS keeps a subcommand's absent option from hiding the global one.
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument("--url", default=argparse.SUPPRESS, help=f"API base URL (${ENV_URL})")
    group.add_argument(
        "--api-key", default=argparse.SUPPRESS, help=f"API key for writes (${ENV_API_KEY})"
    )
    group.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="JSON output for scripts"
    )
    group.add_argument(
        "--request-timeout",
        type=_seconds,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="give up on one HTTP request after this long (default 60)",
    )

    parser = argparse.ArgumentParser(
        prog="imgsvc",
        description="Upload, version, download, resize and animate images.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(
        name: str, run: Command, help_text: str, description: str | None = None
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help_text, description=description or help_text, parents=[common]
        )
        sub.set_defaults(run=run)
        return sub

    def image_options(sub: argparse.ArgumentParser, *, meta_help: str, name_help: str) -> None:
        sub.add_argument("file", type=_input_file, metavar="FILE")
        sub.add_argument(
            "--meta",
            type=_meta,
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=meta_help,
        )
        sub.add_argument("--name", help=name_help)
        sub.add_argument(
            "--max-api-bytes",
            type=_positive_int,
            default=None,
            metavar="BYTES",
            help=f"the API's body limit, the stage's limits.max_body_bytes (${ENV_MAX_API_BYTES}; "
            f"default {DEFAULT_MAX_API_BYTES:,}): larger files never go through the API",
        )

    upload = command("upload", cmd_upload, "upload a new image (version 1)")
    image_options(
        upload,
        meta_help="metadata entry (repeatable)",
        name_help="file name to store (default: FILE's name)",
    )
    upload.add_argument(
        "--direct",
        action="store_true",
        help="upload straight to S3 through a presigned form (files over --max-api-bytes "
        "always go this way)",
    )
    upload.add_argument(
        "--timeout",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        help="with --direct: how long to wait for processing (default 300)",
    )

    update = command(
        "update",
        cmd_update,
        "upload a new version of an image",
        "Upload a new version of an image. It keeps the previous version's name unless --name "
        "is given, and its metadata unless --meta is: any --meta replaces all of the previous "
        "metadata (give again every entry to keep).",
    )
    update.add_argument("id", metavar="ID")
    image_options(
        update,
        meta_help="metadata entry (repeatable); replaces all of the previous version's metadata",
        name_help="file name to store (default: the previous version's name)",
    )

    get = command("get", cmd_get, "show an image's record (latest version by default)")
    get.add_argument("id", metavar="ID")
    get.add_argument("--version", type=_positive_int, metavar="N")

    versions = command("versions", cmd_versions, "list every version, newest first")
    versions.add_argument("id", metavar="ID")

    download = command("download", cmd_download, "save a version's exact bytes (sha256-checked)")
    download.add_argument("id", metavar="ID")
    download.add_argument("--version", type=_positive_int, metavar="N")
    download.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="file to write, or an existing directory to save the image's name in (a path "
        "ending in / must be one); default: the image's name here; '-' for stdout",
    )
    download.add_argument("--force", action="store_true", help="overwrite an existing file")

    resize = command("resize-url", cmd_resize_url, "print the CDN URL of a resized rendition")
    resize.add_argument("id", metavar="ID")
    resize.add_argument("size", metavar="SIZE", help="WxH, Wx or xH, optional -cover suffix")

    gifs = command("gifs", cmd_gifs, "show the animated-GIF effects and their URLs")
    gifs.add_argument("id", metavar="ID")
    gifs.add_argument("--wait", action="store_true", help="poll until every effect is done")
    gifs.add_argument(
        "--timeout",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        help="with --wait: how long to wait (default 300)",
    )

    delete = command("delete", cmd_delete, "delete an image")
    delete.add_argument("id", metavar="ID")

    admin.register(commands, common, positive_int=_positive_int, seconds=_seconds)
    return parser


def _metadata(parser: argparse.ArgumentParser, pairs: list[tuple[str, str]]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for key, value in pairs:
        if key.lower() in (k.lower() for k in metadata):
            parser.error(f"metadata key {key!r} is given twice")
        metadata[key] = value
    return metadata


def _max_api_bytes(parser: argparse.ArgumentParser) -> int:
    raw = os.environ.get(ENV_MAX_API_BYTES)
    if not raw:
        return DEFAULT_MAX_API_BYTES
    try:
        return _positive_int(raw)
    except argparse.ArgumentTypeError as exc:
        parser.error(f"{ENV_MAX_API_BYTES}: {exc}")


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "meta"):
        args.meta = _metadata(parser, args.meta)
    if getattr(args, "max_api_bytes", 0) is None:
        args.max_api_bytes = _max_api_bytes(parser)
    url = getattr(args, "url", None) or os.environ.get(ENV_URL) or DEFAULT_URL
    if not re.match(r"^https?://[^/\s]+", url):
        parser.error(f"the URL must start with http:// or https://, got {url!r}")
    out = Output(
        json_mode=getattr(args, "json", False),
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
    )
    client = Client(
        url,
        api_key=getattr(args, "api_key", None) or os.environ.get(ENV_API_KEY) or None,
        timeout=getattr(args, "request_timeout", 60.0),
    )
    run: Command = args.run
    try:
        with client:
            return run(client, args, out)
    except ApiError as exc:
        out.error(exc.code, exc.message, exc.status)
        return EXIT_API
    except NetworkError as exc:
        out.error(
            "network_error",
            f"Cannot reach {exc.url}: {exc.reason}. Is the service running there? "
            f"(set --url or {ENV_URL})",
        )
        return EXIT_NETWORK
    except (CliError, admin.AdminError) as exc:
        out.error(exc.code, exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        out.error("interrupted", "Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away: stop quietly. Python flushes stdout at exit, so point it at
        # /dev/null first (the recipe of the `signal` module's documentation).
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.stdout.fileno())
        return EXIT_BROKEN_PIPE

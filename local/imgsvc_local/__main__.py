"""``make run``: the whole service on 127.0.0.1 with moto standing in for AWS."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from imgsvc_local import metrics_view
from imgsvc_local.gateway import DEFAULT_CONCURRENCY
from imgsvc_local.service import LocalService


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    metrics_view.install()  # the handlers' metrics as readable lines in this log
    port = int(os.environ.get("PORT", "8080"))
    service = LocalService(
        port=port,
        moto_port=int(os.environ.get("MOTO_PORT", "0")),
        concurrency=int(os.environ.get("LOCAL_CONCURRENCY", str(DEFAULT_CONCURRENCY))),
        environment_setup="imgsvc_local.metrics_view:install",  # in each worker process too
    )
    try:
        service.start()
    except OSError as exc:
        print(f"Cannot start on 127.0.0.1:{port}: {exc}. Try PORT=8081 make run.", file=sys.stderr)
        raise SystemExit(1) from None
    url = service.url
    assert service.moto is not None
    print(f"Image service running at {url}  (AWS stand-in: moto at {service.moto.url})")
    print(f"Web page: {url}/")
    print("Try it:")
    print(
        f"  curl -sS -X POST '{url}/images?name=photo.jpg' -H 'Content-Type: image/jpeg' "
        "-H 'x-meta-author: me' --data-binary @photo.jpg"
    )
    print("Ctrl-C stops.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping...", flush=True)
        service.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()

"""moto's server on 127.0.0.1 standing in for AWS, with what makes it hold as AWS does:

- DynamoDB requests and conditional S3 PUTs are serialised, so their conditions hold as in AWS
  (:class:`SerializeConditionalWrites`);
- S3's checks of presigned POSTs (:class:`imgsvc_local.s3_emulation.EnforcePostPolicy`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from imgsvc_local.resources import LOCAL_CREDENTIALS
from imgsvc_local.s3_emulation import EnforcePostPolicy


class SerializeConditionalWrites:
    """WSGI middleware: one DynamoDB request, and one conditional S3 PUT, at a time.

    Real DynamoDB applies a conditional write atomically per item, and S3 an ``If-None-Match``
    PUT; moto checks the condition and writes in plain Python, so two threads could both pass
    the check. Serialising those requests gives the local mode AWS's guarantee (everything else
    stays parallel).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        conditional_put = environ.get("REQUEST_METHOD") == "PUT" and (
            "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MATCH" in environ
        )
        if conditional_put or environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class MotoServer:
    """moto's server in a thread of this process, on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        # Lambda functions are only created here, never run (no Docker): the local mode runs
        # the handlers itself (imgsvc_local.environments).
        os.environ.setdefault("MOTO_DOCKER_NETWORK_MODE", "")
        app = EnforcePostPolicy(
            SerializeConditionalWrites(DomainDispatcherApplication(create_backend_app)),
            LOCAL_CREDENTIALS,
        )
        self._server = make_server(host, port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.server_address[1]}"

    def start(self) -> MotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

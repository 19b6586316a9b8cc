"""The whole service on one machine: moto as AWS, the API's handlers in worker processes (one
per concurrent invocation, as Lambda), the queue consumers in threads, one HTTP port."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from imgsvc_local.environments import EnvironmentPool
from imgsvc_local.gateway import DEFAULT_CONCURRENCY, FUNCTIONS, Gateway, LocalContext
from imgsvc_local.moto_server import MotoServer
from imgsvc_local.resources import Names, create_resources, environment
from imgsvc_local.server import READ_TIMEOUT, HeaderLinesRequestHandler, LocalApp
from imgsvc_local.workers import QueueWorker

logger = logging.getLogger("localmode")

# Seconds a received message stays invisible: a retry comes this long after a failure, and
# the work of one batch (GIFs of a few images, a 25 MB upload) fits in it.
QUEUE_VISIBILITY_TIMEOUT = 10


@dataclass
class LocalService:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is the API's base URL."""

    host: str = "127.0.0.1"
    port: int = 8080
    moto_port: int = 0
    names: Names = field(default_factory=Names)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Concurrent invocations of each function (worker processes: imgsvc_local.environments).
    concurrency: int = DEFAULT_CONCURRENCY
    # Seconds a client may stay silent mid-request (imgsvc_local.server.READ_TIMEOUT).
    read_timeout: float = READ_TIMEOUT
    # "module:function" each environment runs once when it starts (``make run``: the metrics
    # view, so the handlers' metrics show in the log as they do in this process).
    environment_setup: str | None = None
    moto: MotoServer | None = None
    environments: EnvironmentPool | None = None
    http: BaseWSGIServer | None = None
    workers: list[QueueWorker] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.http is not None, "start() first"
        return f"http://{self.host}:{self.http.server_address[1]}"

    def start(self) -> LocalService:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # we log requests ourselves
        self.moto = MotoServer(self.host, self.moto_port).start()
        # Started on the first request, once os.environ holds the configuration below.
        self.environments = EnvironmentPool(
            FUNCTIONS, self.concurrency, setup=self.environment_setup
        )
        gateway = Gateway(environments=self.environments)
        app = LocalApp(gateway)
        handler = type(
            "RequestHandler", (HeaderLinesRequestHandler,), {"timeout": self.read_timeout}
        )
        # Bind first: with port 0 the real port is known only now, and the URLs need it.
        self.http = make_server(self.host, self.port, app, threaded=True, request_handler=handler)
        app.api_host = f"{self.host}:{self.http.server_address[1]}"
        os.environ.update(
            environment(
                self.moto.url,
                self.names,
                # The API's URLs in responses: this server's, whatever a request's Host says.
                IMGSVC_API_BASE_URL=self.url,
                IMGSVC_CDN_BASE_URL=f"{self.url}/cdn",
                POWERTOOLS_LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
                **self.extra_env,
            )
        )
        from imgsvc import config, wiring

        wiring.reset()
        self.resources = create_resources(self.names)
        app.cdn = self._cdn(self.environments)
        # What environments/stack/web.tf writes into config.js for a stage.
        app.web_config = {
            "apiBaseUrl": "",
            "cdnBaseUrl": "/cdn",
            "maxApiBytes": config.load().max_body_bytes,
        }
        self._start_workers()
        self._thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self._thread.start()
        return self

    def _start_workers(self) -> None:
        """One worker per event source mapping in AWS: the replicator (emulating S3
        replication), the uploads function, and one effect function per GIF effect."""
        from imgsvc import config, gifs
        from imgsvc.handlers import effects, uploads
        from imgsvc_local import replication

        self._add_worker(
            "replication", self.resources["replication_queue_url"], replication.handler
        )
        self._add_worker(
            "uploads",
            self.resources["uploads_queue_url"],
            uploads.handler,
            visibility_timeout=QUEUE_VISIBILITY_TIMEOUT,
        )
        for effect in gifs.configured_effects(config.load()):
            self._add_worker(
                f"effect-{effect}",
                self.resources[f"{effect}_queue_url"],
                effects.handler_for(effect),
                visibility_timeout=QUEUE_VISIBILITY_TIMEOUT,
            )

    def _add_worker(self, name: str, queue_url: str, handler: Any, **kwargs: Any) -> None:
        worker = QueueWorker(
            name=name,
            queue_url=queue_url,
            handler=handler,
            context_factory=lambda: LocalContext(name),
            **kwargs,
        )
        worker.start()
        self.workers.append(worker)

    def _cdn(self, environments: EnvironmentPool) -> Any:
        """The local CDN (renditions and GIFs) when this build has it."""
        try:
            cdn = importlib.import_module("imgsvc_local.cdn")
        except ModuleNotFoundError:
            return None
        return functools.partial(cdn.handle, environments=environments)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        for worker in self.workers:
            worker.join(timeout=5)
        if self.environments is not None:
            self.environments.shutdown()
        if self.moto is not None:
            self.moto.stop()

"""Lambda execution environments on one machine: a pool of worker processes.

Lambda runs concurrent invocations of a function in separate execution environments, and each
environment handles one event at a time ("Lambda execution environment lifecycle", AWS Lambda
Developer Guide). Handlers rely on it: Powertools' resolvers keep the current event on the
resolver object (``BaseRouter.current_event``), so two threads of one process would read each
other's requests. A pool of processes gives each concurrent invocation its own environment:

- a worker process is one environment. It runs one invocation at a time, imports a handler the
  first time it is asked for it (a cold start) and keeps it (warm starts after);
- workers are started on demand, up to ``size``: one sequential client keeps using one warm
  worker, 16 concurrent clients get ``size`` invocations at once;
- a handler that raises, or a worker that dies (killed, out of memory), is API Gateway's answer
  to a failed invocation: a 502 in the service's error shape (DEFAULT_5XX in modules/api);
  the pool replaces a dead worker.

The processes are started with ``spawn``: the local mode's own process has threads (moto's
server, the queue workers), and a ``fork`` of a threaded process can inherit held locks. A
spawned worker takes the environment (``os.environ``) of the moment it starts, so the pool is
started after the service's configuration is in place.
"""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

logger = logging.getLogger("localmode.environments")

# The function name -> "module:attribute" of its handler, as each Lambda function's handler.
Handlers = dict[str, str]

# One per worker process: the handlers it has imported.
_loaded: dict[str, Any] = {}
_handlers: Handlers = {}


def _initialize(handlers: Handlers, parent: int, setup: str | None) -> None:
    _handlers.update(handlers)
    if setup:  # "module:function", run once in each environment (e.g. the metrics view)
        module_name, _, attribute = setup.partition(":")
        getattr(importlib.import_module(module_name), attribute)()
    # A worker outlives a killed local mode otherwise (it waits on its queue for good).
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _run(function: str, payload: str) -> str:
    """In a worker: invoke ``function`` with the event (JSON in, JSON out, as Lambda's invoke)."""
    from imgsvc_local.gateway import LocalContext

    if function not in _loaded:
        module_name, _, attribute = _handlers[function].partition(":")
        _loaded[function] = getattr(importlib.import_module(module_name), attribute)
    try:
        result = _loaded[function](json.loads(payload), LocalContext(function))
    except Exception:  # Lambda reports an unhandled error; the gateway answers 502
        logger.exception("the %s function raised", function)
        return json.dumps({"failed": True})
    return json.dumps({"result": result})


class FunctionError(Exception):
    """The invocation failed: the handler raised or its environment died."""


class EnvironmentPool:
    """Up to ``size`` execution environments (worker processes) for the given handlers."""

    def __init__(self, handlers: Handlers, size: int, setup: str | None = None) -> None:
        if size < 1:
            raise ValueError(f"the pool needs at least one environment, not {size}")
        self.handlers = dict(handlers)
        self.size = size
        self.setup = setup
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.size,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_initialize,
                    initargs=(self.handlers, os.getpid(), self.setup),
                )
            return self._executor

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's result for ``event``, from an environment of its own.

        Raises :class:`FunctionError` when the handler raised or its environment died, and
        KeyError for a function the pool has no handler for.
        """
        if function not in self.handlers:
            raise KeyError(function)
        pool = self._pool()
        try:
            outcome = json.loads(pool.submit(_run, function, json.dumps(event)).result())
        except BrokenProcessPool:
            logger.error("an environment of the %s function died: restarting the pool", function)
            with self._lock:
                if self._executor is pool:
                    self._executor = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise FunctionError(f"the environment of {function} died") from None
        result = outcome.get("result")
        if not isinstance(result, dict):
            raise FunctionError(f"the {function} function failed")
        return result

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

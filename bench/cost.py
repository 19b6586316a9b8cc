"""What the service costs a month, and where it stops scaling: ``python -m bench cost``.

Every line of the table is one AWS charge (quantity x unit price); the sum is the month's total.
Three inputs, none of them guessed by this file:

- **Prices** from ``bench/prices/<region>.json``: each with its source and the date it was read
  (nothing on a development machine can fetch prices; a user updates the file).
- **Durations and bytes** measured on this machine: the resize bench's ms per rendition and the
  GIF bench's ms per GIF (when ``make bench`` ran those sections first in the same process), or
  else the committed ``bench/figures.json`` (recorded with its date and machine). A duration is
  scaled to the function's memory setting: Lambda gives a function CPU in proportion to its
  memory, one vCPU at 1,769 MB (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
  The rendition and GIF code runs on one thread, so below 1,769 MB it takes
  ``measured x 1769 / memory`` and above it no less than measured. One core of this machine is
  taken as one Lambda vCPU (arm64 Graviton): an assumption, stated in the table.
- **Settings** read from the stack (``environments/stack/variables.tf`` and the modules it
  calls): memory sizes, GIF effects, log retention, the replica's storage class, noncurrent
  version retention.

The workloads (small, medium, large site) are parameters with defaults; ``--images``,
``--views`` etc. override them for a workload of one's own. Free tiers are not subtracted.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import MEASURED
from bench.common import print_table as _print_table

MARKDOWN = False  # --markdown: tables for docs/cost-and-scale.md


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, left: Sequence[int] = (0,)
) -> None:
    """bench.common's aligned table, or a Markdown table with --markdown."""
    if not MARKDOWN:
        _print_table(headers, rows, left=left)
        return
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" if i in left else "---:" for i in range(len(headers))) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


ROOT = Path(__file__).resolve().parent.parent
PRICES_DIR = Path(__file__).resolve().parent / "prices"
FIGURES_FILE = Path(__file__).resolve().parent / "figures.json"
STACK = ROOT / "environments" / "stack"

GB = 1024**3  # AWS bills data in GiB ("GB" on its pages)
SECONDS_PER_MONTH = 30 * 24 * 3600
ONE_VCPU_MB = 1769  # https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
# Busiest second against the month's average: the simulation's diurnal profile (peak 1.5x the
# mean) with some headroom for bursts within the hour. An assumption, used by the limits below.
PEAK_TO_MEAN = 2.0

# --- what the code does per event, read from the code (not measured) -------------------------
# S3 requests and DynamoDB writes per upload, per rendition and per GIF, and the API calls of a
# direct upload (POST /uploads, then GET /images/{id} until it is processed).
API_CALLS_PER_UPLOAD = 3
DYNAMODB_WRITES_PER_UPLOAD = 2  # the image item and its version; each GIF's status adds one
LOG_BYTES_PER_INVOCATION = 1500  # START/END/REPORT lines and two Powertools JSON lines
API_ACCESS_LOG_BYTES = 500
ITEM_BYTES_PER_IMAGE = 1024
SQS_REQUESTS_PER_MESSAGE = 3  # send (by S3 or SNS), receive, delete
# An idle SQS event source long-polls with a few pollers; AWS scales it down to as few as 2
# (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). Taken as 5 pollers
# of 20-second polls: an estimate of the floor, not a measured figure.
SQS_IDLE_POLLERS = 5
SQS_LONG_POLL_SECONDS = 20
CUSTOM_METRICS = 12  # Powertools EMF metrics x bounded dimensions; an estimate
DASHBOARDS = 1
ALARMS_PER_CONSUMER = 3  # modules/fanout/alarms.tf: dead letters, errors, throttles
# The api function's work (DynamoDB and S3 calls, no pixels) is not benchmarked: assumed.
API_MS_ASSUMED = 60.0
# Reading the original from S3 and writing the result, on top of the measured pixel work.
IO_MS_ASSUMED = 50.0


# --- settings from the stack ------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    memory_mb: Mapping[str, int]
    gif_effects: int
    log_retention_days: int
    noncurrent_days: int
    replica_storage_class: str


def _variable_block(text: str, name: str) -> str:
    start = text.find(f'variable "{name}"')
    if start < 0:
        raise ValueError(f'no variable "{name}"')
    depth = 0
    for index in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start : index + 1]
    raise ValueError(f'variable "{name}" is not closed')


def stack_settings(root: Path = ROOT) -> Settings:
    """The defaults the cost depends on, read from the Terraform that deploys them."""
    stack = (root / "environments" / "stack" / "variables.tf").read_text()
    functions = _variable_block(stack, "functions")
    memory: dict[str, int] = {}
    for name in ("api", "resize", "uploads", "effects"):
        match = re.search(
            rf"\b{name}\s*=\s*optional\(object\(\{{\s*memory_size\s*=\s*optional\(number,\s*(\d+)\)",
            functions,
        )
        if not match:
            raise ValueError(f"no memory_size default for functions.{name} in variables.tf")
        memory[name] = int(match[1])
    effects = re.search(r"default\s*=\s*\[([^\]]*)\]", _variable_block(stack, "gif_effects"))
    retention = re.search(r"default\s*=\s*(\d+)", _variable_block(stack, "log_retention_in_days"))
    storage = (root / "modules" / "storage-with-replication" / "variables.tf").read_text()
    replica = re.search(
        r'default\s*=\s*"([A-Z_]+)"', _variable_block(storage, "replica_storage_class")
    )
    noncurrent = re.search(
        r"default\s*=\s*(\d+)", _variable_block(storage, "noncurrent_version_expiration_days")
    )
    if not (effects and retention and replica and noncurrent):
        raise ValueError("a default the cost model reads is missing from the Terraform")
    return Settings(
        memory_mb=memory,
        gif_effects=len(re.findall(r'"[a-z]+"', effects[1])),
        log_retention_days=int(retention[1]),
        noncurrent_days=int(noncurrent[1]),
        replica_storage_class=replica[1],
    )


# --- measured figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Per-operation figures measured on one core of this machine (the bench's 12 MP JPEG)."""

    rendition_ms: Mapping[str, float]  # per rendition case, e.g. "256 jpeg": least CPU ms
    rendition_bytes: Mapping[str, float]
    gif_ms: Mapping[str, float]  # per effect: least CPU ms (--measure) or median wall ms
    gif_bytes: Mapping[str, float]
    original_bytes: float
    measured: str  # when and where
    origin: str  # "this run" or the file

    @property
    def mean_rendition_ms(self) -> float:
        return statistics.fmean(self.rendition_ms.values())

    @property
    def mean_rendition_bytes(self) -> float:
        return statistics.fmean(self.rendition_bytes.values())

    @property
    def mean_gif_ms(self) -> float:
        return statistics.fmean(self.gif_ms.values())

    @property
    def mean_gif_bytes(self) -> float:
        return statistics.fmean(self.gif_bytes.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "measured": self.measured,
            "what": "bench/resize.py's `ours` on its 12 MP JPEG (256 and 1024 px, JPEG and "
            "WebP) and bench/gifs.py's `ours` per effect on its JPEG: the least CPU ms of the "
            "runs (--measure; in `make bench` the GIF figure is that bench's median wall ms); "
            "bytes of each output",
            "rendition_ms": dict(self.rendition_ms),
            "rendition_bytes": dict(self.rendition_bytes),
            "gif_ms": dict(self.gif_ms),
            "gif_bytes": dict(self.gif_bytes),
            "original_bytes": self.original_bytes,
        }


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, Python {platform.python_version()}"


def figures_from_run(measured: Mapping[str, Mapping[str, float]]) -> Figures | None:
    """The figures the resize and gifs sections recorded earlier in this process, if both ran."""
    needed = ("rendition_ms", "rendition_bytes", "gif_ms", "gif_bytes", "original_bytes")
    if not all(measured.get(name) for name in needed):
        return None
    return Figures(
        rendition_ms=dict(measured["rendition_ms"]),
        rendition_bytes=dict(measured["rendition_bytes"]),
        gif_ms=dict(measured["gif_ms"]),
        gif_bytes=dict(measured["gif_bytes"]),
        original_bytes=statistics.fmean(measured["original_bytes"].values()),
        measured=f"{datetime.now(UTC):%Y-%m-%d}, {_machine()}",
        origin="this run (resize and gifs sections)",
    )


def load_figures(path: Path = FIGURES_FILE) -> Figures:
    data = json.loads(path.read_text())
    return Figures(
        rendition_ms=data["rendition_ms"],
        rendition_bytes=data["rendition_bytes"],
        gif_ms=data["gif_ms"],
        gif_bytes=data["gif_bytes"],
        original_bytes=float(data["original_bytes"]),
        measured=data["measured"],
        origin=path.name,
    )


def measure(repeat: int = 5) -> Figures:
    """A quick run of the resize and GIF benches' own pipelines (``ours``) on their inputs:
    the least CPU time of ``repeat`` runs, which other jobs on a shared machine disturb least."""
    from bench import gifs, resize
    from imgsvc import effects

    jpeg = resize.inputs()[0]
    rendition_ms: dict[str, float] = {}
    rendition_bytes: dict[str, float] = {}
    for target in resize.TARGETS:
        for out in ("jpeg", "webp"):
            content_type = resize.FORMATS[out]
            key = f"{target} {out}"
            rendition_bytes[key] = len(resize.ours(jpeg.data, target, content_type))
            rendition_ms[key] = least_cpu_ms(
                partial(resize.ours, jpeg.data, target, content_type), repeat
            )
    source = gifs.source()
    gif_ms: dict[str, float] = {}
    gif_bytes: dict[str, float] = {}
    for name in effects.DEFAULT_EFFECTS:
        gif_bytes[name] = len(gifs.ours(source, name))
        gif_ms[name] = least_cpu_ms(partial(gifs.ours, source, name), max(1, repeat // 2))
    return Figures(
        rendition_ms=rendition_ms,
        rendition_bytes=rendition_bytes,
        gif_ms=gif_ms,
        gif_bytes=gif_bytes,
        original_bytes=len(jpeg.data),
        measured=f"{datetime.now(UTC):%Y-%m-%d}, {_machine()}",
        origin="measured now (--measure)",
    )


def least_cpu_ms(fn: Callable[[], object], repeat: int) -> float:
    """The least CPU time of ``repeat`` runs after a warm-up, as bench/resize.py reports it."""
    fn()
    samples = []
    for _ in range(max(1, repeat)):
        start = time.process_time()
        fn()
        samples.append((time.process_time() - start) * 1000.0)
    return min(samples)


def lambda_ms(measured_ms: float, memory_mb: int) -> float:
    """Single-threaded work measured on one core, on a function with ``memory_mb``."""
    return measured_ms * max(1.0, ONE_VCPU_MB / memory_mb)


# --- prices --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    region: str
    read_on: str
    items: Mapping[str, Mapping[str, Any]]

    def unit(self, name: str) -> float:
        return float(self.items[name]["usd"])

    def tiered(self, name: str, quantity: float) -> float:
        """Cost of ``quantity`` under a tiered price: ``[[width, price], ..., [null, price]]``."""
        item = self.items[name]
        if "usd_tiers" not in item:
            return quantity * float(item["usd"])
        cost, left = 0.0, quantity
        for width, price in item["usd_tiers"]:
            take = left if width is None else min(left, float(width))
            cost += take * float(price)
            left -= take
            if left <= 0:
                break
        return cost

    def first_tier(self, name: str) -> float:
        item = self.items[name]
        return float(item["usd_tiers"][0][1] if "usd_tiers" in item else item["usd"])

    @property
    def unconfirmed(self) -> list[str]:
        return sorted(name for name, item in self.items.items() if not item.get("confirmed"))


def load_prices(region: str, directory: Path = PRICES_DIR) -> Prices:
    path = directory / f"{region}.json"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.json"))
        raise SystemExit(f"no price file for {region} ({path}); there is one for: {known}")
    data = json.loads(path.read_text())
    return Prices(region=data["region"], read_on=data["read_on"], items=data["prices"])


# --- workloads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    images: float  # stored images
    views: float  # rendition and GIF views a month (CloudFront requests)
    hit_ratio: float  # of those, served by CloudFront's caches
    uploads: float  # new images and new versions a month
    renditions_per_image: float = 4.0  # distinct (size, format) renditions made per version
    replaced_fraction: float = 0.1  # of uploads, new versions of an existing image
    origin_shield: bool = False
    # Of the requests that miss every edge, the share Origin Shield answers from its own cache
    # (its requests are charged, its hits spare S3 and the resize function). The simulation
    # (python -m bench simulate) measures it for the large site.
    shield_hit_ratio: float = 0.5
    gif_view_fraction: float = 0.05  # of views, GIFs (larger files than renditions)

    def __post_init__(self) -> None:
        for name in ("images", "views", "uploads", "renditions_per_image"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("hit_ratio", "replaced_fraction", "shield_hit_ratio", "gif_view_fraction"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= 1):
                raise ValueError(f"{name} must be a fraction from 0 to 1, got {value!r}")


WORKLOADS = (
    Workload("small", images=10_000, views=1_000_000, hit_ratio=0.80, uploads=1_000),
    Workload("medium", images=1_000_000, views=100_000_000, hit_ratio=0.90, uploads=100_000),
    Workload(
        "large",
        images=100_000_000,
        views=10_000_000_000,
        hit_ratio=0.90,
        uploads=10_000_000,
    ),
)


# --- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    service: str
    charge: str
    quantity: float
    unit: str
    usd: float


@dataclass(frozen=True)
class Estimate:
    workload: Workload
    lines: tuple[Line, ...]
    invocations: Mapping[str, float] = field(default_factory=dict)
    seconds: Mapping[str, float] = field(default_factory=dict)  # billed seconds per invocation

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines)

    def service_total(self, service: str) -> float:
        return sum(line.usd for line in self.lines if line.service == service)


REPLICA_PRICE = {
    "STANDARD": "s3_standard_gb_month",
    "STANDARD_IA": "s3_standard_ia_gb_month",
    "ONEZONE_IA": "s3_onezone_ia_gb_month",
}


def estimate(w: Workload, prices: Prices, figures: Figures, settings: Settings) -> Estimate:
    """The month's charges of workload ``w``, line by line."""
    lines: list[Line] = []

    def add(service: str, charge: str, quantity: float, unit: str, price: str) -> None:
        lines.append(Line(service, charge, quantity, unit, prices.tiered(price, quantity)))

    memory = settings.memory_mb
    effects = settings.gif_effects
    seconds = {
        "resize": (lambda_ms(figures.mean_rendition_ms, memory["resize"]) + IO_MS_ASSUMED) / 1000,
        "effects": (lambda_ms(figures.mean_gif_ms, memory["effects"]) + IO_MS_ASSUMED) / 1000,
        # The uploads function reads and checks the whole image: taken as one rendition's work.
        "uploads": (lambda_ms(figures.mean_rendition_ms, memory["uploads"]) + IO_MS_ASSUMED) / 1000,
        "api": API_MS_ASSUMED / 1000,
    }
    renditions_made = w.uploads * w.renditions_per_image
    api_calls = w.uploads * API_CALLS_PER_UPLOAD
    invocations = {
        "resize": renditions_made,
        "effects": w.uploads * effects,
        "uploads": w.uploads,  # batch size 5, but at an even rate most batches hold one message
        "api": api_calls,
    }

    # CloudFront: every view is an HTTPS request; /r/ views also run the viewer-request function.
    view_bytes = (
        1 - w.gif_view_fraction
    ) * figures.mean_rendition_bytes + w.gif_view_fraction * figures.mean_gif_bytes
    add(
        "CloudFront",
        "data transfer out",
        w.views * view_bytes / GB,
        "GB",
        "cloudfront_transfer_out_gb",
    )
    add("CloudFront", "HTTPS requests", w.views, "requests", "cloudfront_https_request")
    add(
        "CloudFront",
        "function invocations (format negotiation)",
        w.views * (1 - w.gif_view_fraction),
        "invocations",
        "cloudfront_function_invocation",
    )
    edge_misses = w.views * (1 - w.hit_ratio)
    origin_requests = edge_misses
    if w.origin_shield:
        add(
            "CloudFront",
            "Origin Shield requests",
            edge_misses,
            "requests",
            "cloudfront_origin_shield_request",
        )
        origin_requests = edge_misses * (1 - w.shield_hit_ratio)

    # Lambda: requests and GB-seconds per function.
    for name in ("resize", "effects", "uploads", "api"):
        count = invocations[name]
        add("Lambda", f"{name} requests", count, "requests", "lambda_request")
        gb_seconds = count * seconds[name] * memory[name] / 1024
        label = f"{name} compute ({memory[name]} MB, {seconds[name] * 1000:.0f} ms)"
        add("Lambda", label, gb_seconds, "GB-s", "lambda_arm64_gb_second")

    add("API Gateway", "REST requests", api_calls, "requests", "apigw_rest_request")

    # S3 storage: originals (current + noncurrent for noncurrent_days), the replica, renditions.
    original_gb = figures.original_bytes / GB
    noncurrent_gb = w.uploads * w.replaced_fraction * original_gb * settings.noncurrent_days / 30
    add("S3", "originals, Standard", w.images * original_gb, "GB-month", "s3_standard_gb_month")
    add(
        "S3",
        f"noncurrent versions ({settings.noncurrent_days} days), Standard",
        noncurrent_gb,
        "GB-month",
        "s3_standard_gb_month",
    )
    replica_class = settings.replica_storage_class
    add(
        "S3",
        f"replica, {replica_class}",
        w.images * original_gb,
        "GB-month",
        REPLICA_PRICE.get(replica_class, "s3_standard_gb_month"),
    )
    derived_gb = (
        w.images
        * (w.renditions_per_image * figures.mean_rendition_bytes + effects * figures.mean_gif_bytes)
        / GB
    )
    add("S3", "renditions and GIFs, Standard", derived_gb, "GB-month", "s3_standard_gb_month")
    # S3 requests. Per upload: the browser's POST into the uploads bucket, the uploads
    # function's GET and its PUT into the originals; every rendition and GIF reads the original
    # and writes its result; every request that misses CloudFront (and Origin Shield) is a GET.
    puts = w.uploads * 2 + renditions_made + w.uploads * effects
    gets = w.uploads + renditions_made + w.uploads * effects + origin_requests
    add("S3", "PUT/POST requests", puts, "requests", "s3_put_request")
    add("S3", "GET requests", gets, "requests", "s3_get_request")
    add("S3", f"replication PUTs into {replica_class}", w.uploads, "requests", "s3_ia_put_request")
    add(
        "S3",
        "replication transfer to the second region",
        w.uploads * original_gb,
        "GB",
        "s3_replication_transfer_gb",
    )

    # DynamoDB on demand: items under 1 KB, so one write unit per write; one read unit per API
    # call and per rendition made (the resize function reads the image's item).
    writes = w.uploads * (DYNAMODB_WRITES_PER_UPLOAD + effects)
    reads = api_calls + renditions_made
    add("DynamoDB", "write request units", writes, "WRU", "dynamodb_write_request_unit")
    add("DynamoDB", "read request units", reads, "RRU", "dynamodb_read_request_unit")
    add(
        "DynamoDB",
        "storage",
        w.images * ITEM_BYTES_PER_IMAGE / GB,
        "GB-month",
        "dynamodb_storage_gb_month",
    )

    # SNS fans every new original out to one SQS queue per effect; the uploads queue is fed
    # by S3 directly. Deliveries from SNS to SQS are free.
    queues = effects + 1
    add("SNS", "publishes", w.uploads, "publishes", "sns_publish")
    add(
        "SQS",
        "send, receive, delete",
        w.uploads * queues * SQS_REQUESTS_PER_MESSAGE,
        "requests",
        "sqs_request",
    )
    add(
        "SQS",
        f"idle long polls ({SQS_IDLE_POLLERS} pollers per queue, estimated)",
        queues * SQS_IDLE_POLLERS * SECONDS_PER_MONTH / SQS_LONG_POLL_SECONDS,
        "requests",
        "sqs_request",
    )

    # CloudWatch: the functions' and API's logs, kept log_retention_days; metrics, alarms.
    log_gb = (
        sum(invocations.values()) * LOG_BYTES_PER_INVOCATION + api_calls * API_ACCESS_LOG_BYTES
    ) / GB
    add("CloudWatch", "log ingestion", log_gb, "GB", "cloudwatch_logs_ingest_gb")
    add(
        "CloudWatch",
        f"log storage ({settings.log_retention_days} days)",
        log_gb * settings.log_retention_days / 30,
        "GB-month",
        "cloudwatch_logs_storage_gb_month",
    )
    add(
        "CloudWatch",
        "custom metrics (estimated)",
        CUSTOM_METRICS,
        "metrics",
        "cloudwatch_metric_month",
    )
    add(
        "CloudWatch",
        "alarms",
        ALARMS_PER_CONSUMER * queues,
        "alarms",
        "cloudwatch_alarm_month",
    )
    add("CloudWatch", "dashboard", DASHBOARDS, "dashboards", "cloudwatch_dashboard_month")
    return Estimate(w, tuple(lines), invocations, seconds)


@dataclass(frozen=True)
class PlanAdvice:
    pay_as_you_go: float
    plan: str | None
    plan_usd: float | None

    def sentence(self) -> str:
        if self.plan is None or self.plan_usd is None:
            return (
                f"No CloudFront flat-rate plan covers this workload's requests and transfer; "
                f"pay as you go: ${self.pay_as_you_go:,.2f}."
            )
        if self.plan_usd < self.pay_as_you_go:
            return (
                f"The CloudFront flat-rate {self.plan} plan (${self.plan_usd:,.0f} a month) "
                f"covers this workload and is cheaper than the CloudFront lines above "
                f"(${self.pay_as_you_go:,.2f}): ${self.pay_as_you_go - self.plan_usd:,.2f} less."
            )
        return (
            f"The cheapest CloudFront flat-rate plan that covers it, {self.plan} "
            f"(${self.plan_usd:,.0f}), costs more than pay as you go (${self.pay_as_you_go:,.2f})."
        )


def flat_rate_advice(result: Estimate, prices: Prices, figures: Figures) -> PlanAdvice:
    """The cheapest flat-rate plan whose allowances cover the month, against pay as you go."""
    w = result.workload
    paygo = result.service_total("CloudFront")
    transfer_gb = next(line.quantity for line in result.lines if line.charge == "data transfer out")
    fitting = [
        plan
        for plan in prices.items["cloudfront_flat_rate_plans"]["plans"]
        if plan["requests"] >= w.views and plan["transfer_gb"] >= transfer_gb
    ]
    if not fitting:
        return PlanAdvice(paygo, None, None)
    cheapest = min(fitting, key=lambda plan: plan["usd_month"])
    return PlanAdvice(paygo, str(cheapest["name"]), float(cheapest["usd_month"]))


# --- where it breaks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    quota: str
    default: str
    reached_at: str
    raise_with: str
    source: str


def limits(w: Workload, result: Estimate, settings: Settings) -> list[Limit]:
    """Each AWS quota the design meets as ``w`` grows, with the load at which it is reached."""
    per_second = PEAK_TO_MEAN / SECONDS_PER_MONTH  # a month's count -> its busiest second
    inv, sec = result.invocations, result.seconds
    busy = {name: inv[name] * per_second * sec[name] for name in inv}  # Little's law
    concurrency = sum(busy.values())
    growth = 1000 / concurrency if concurrency else math.inf
    # Cold cache: every request that misses the edges makes a rendition (nothing in S3 yet).
    misses_per_s = w.views * (1 - w.hit_ratio) * per_second
    cold = misses_per_s * sec["resize"]
    api_rps = inv["api"] * per_second
    origin_gets = w.views * (1 - w.hit_ratio) * (1 - w.shield_hit_ratio if w.origin_shield else 1)
    s3_gets_per_s = origin_gets * per_second
    cf_rps = w.views * per_second
    gif_rate = w.uploads * per_second  # GIFs per second per effect
    gif_capacity = 20 / sec["effects"]  # maximum_concurrency 20 (the stack's default)
    return [
        Limit(
            "Lambda concurrent executions (account, region)",
            "1,000",
            f"{concurrency:,.0f} at this workload's busiest second (resize {busy['resize']:,.1f}, "
            f"effects {busy['effects']:,.1f}, uploads {busy['uploads']:,.1f}, api "
            f"{busy['api']:,.1f}): reached at {growth:,.0f}x its uploads and API traffic",
            "Service Quotas increase (tens of thousands are granted); reserved concurrency "
            "guarantees a function its share",
            "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html",
        ),
        Limit(
            "Lambda concurrency on a cold cache (resize)",
            "1,000 (account) or functions.resize.reserved_concurrent_executions",
            f"{cold:,.0f} concurrent on average if every edge miss had to be made "
            f"({misses_per_s:,.0f} misses/s x {sec['resize'] * 1000:.0f} ms), after a launch or "
            "avif_enabled (a new URL for most renditions); the first seconds are far "
            "busier than the average (python -m bench simulate)",
            "make renditions before a launch; a reserved cap (prod: 200) turns the excess into "
            "429s instead of starving the account's other functions; Origin Shield barely "
            "changes it (each edge already collapses its own requests)",
            "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",
        ),
        Limit(
            "Lambda scaling rate per function",
            "+1,000 execution environments every 10 s",
            "a launch that needs more than 1,000 new resize instances within 10 s: the rest "
            "get 429 until Lambda catches up",
            "not adjustable: ask for a launch's renditions ahead of it at a steady rate, or "
            "let traffic rise gradually",
            "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html",
        ),
        Limit(
            "API Gateway throttle (account, region)",
            "10,000 requests/s, burst 5,000",
            f"{api_rps:,.2f} requests/s at the busiest second: reached at "
            f"{10_000 / api_rps if api_rps else math.inf:,.0f}x this workload's uploads",
            "Service Quotas increase; the usage plan (usage_plan) throttles each API key below it",
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html",
        ),
        Limit(
            "S3 request rate per prefix",
            "3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD per second",
            f"renditions bucket: {s3_gets_per_s:,.0f} GETs/s at the busiest second, over keys "
            "r/<random uuid>/..., which S3 splits into as many prefixes as it needs (a "
            "sudden rise can see 503 Slow Down while it does); one image's renditions would "
            "need 5,500 edge misses a second",
            "automatic partitioning (the key scheme starts every key with a random id); "
            "Origin Shield and a higher hit ratio cut the GETs",
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html",
        ),
        Limit(
            "DynamoDB per partition",
            "1,000 WCU and 3,000 RCU per second",
            "one image item: 1,000 writes/s (new versions of one image) or 3,000 strongly "
            "consistent reads/s of it through the API; not reached by any workload here, "
            f"whose whole table peaks at {result.invocations['api'] * per_second:,.1f} reads/s",
            "on-demand tables adapt by splitting hot partitions; keep one item per image "
            "(the key is the image id)",
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html",
        ),
        Limit(
            "SQS event source scaling (per effect and uploads)",
            "5 concurrent batches, +300 per minute, 1,000 at most; capped by "
            "maximum_concurrency (stack default 20)",
            f"{gif_rate:,.2f} GIFs/s per effect at the busiest second against "
            f"{gif_capacity:,.1f}/s that 20 instances make ({sec['effects'] * 1000:.0f} ms each): "
            f"reached at {gif_capacity / gif_rate if gif_rate else math.inf:,.0f}x this "
            "workload's uploads; past it the queue grows and drains later",
            "functions.effects.maximum_concurrency (up to 1,000)",
            "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html",
        ),
        Limit(
            "CloudFront requests per distribution",
            "250,000 requests/s (not for flat-rate plans)",
            f"{cf_rps:,.0f} requests/s at the busiest second: reached at "
            f"{250_000 / cf_rps if cf_rps else math.inf:,.0f}x this workload's views",
            "Service Quotas increase",
            "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html",
        ),
        Limit(
            "CloudFront origin response timeout",
            "30 s (var resize_origin_read_timeout; more than 60 needs a quota increase)",
            f"a rendition that takes longer than the resize function's 29 s timeout; the "
            f"measured mean is {sec['resize'] * 1000:.0f} ms",
            "resize_origin_read_timeout with functions.resize.timeout",
            "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html",
        ),
    ]


# --- output -----------------------------------------------------------------------------------


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _quantity(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3f}".rstrip("0").rstrip(".") or "0"


def print_estimate(result: Estimate, prices: Prices, figures: Figures) -> None:
    w = result.workload
    print(
        f"\n{w.name}: {w.images:,.0f} images, {w.views:,.0f} views a month "
        f"({w.hit_ratio:.0%} from CloudFront's caches), {w.uploads:,.0f} uploads a month, "
        f"{w.renditions_per_image:g} renditions each, Origin Shield "
        f"{'on' if w.origin_shield else 'off'}"
    )
    rows = [
        [
            line.service,
            line.charge,
            _quantity(line.quantity),
            line.unit,
            _money(line.usd),
        ]
        for line in result.lines
    ]
    rows.append(["total", "", "", "", _money(result.total)])
    print_table(["service", "charge", "quantity", "unit", "USD/month"], rows, left=(0, 1, 3))
    print(flat_rate_advice(result, prices, figures).sentence())


def print_limits(w: Workload, result: Estimate, settings: Settings) -> None:
    print(
        f"\nWhere the {w.name} workload meets AWS's quotas "
        f"(busiest second = {PEAK_TO_MEAN:g}x the mean)"
    )
    for limit in limits(w, result, settings):
        print(
            f"- {limit.quota} [{limit.default}]: {limit.reached_at}. "
            f"Raise: {limit.raise_with}. ({limit.source})"
        )


def sensitivity(
    w: Workload, prices: Prices, figures: Figures, settings: Settings
) -> list[list[str]]:
    """How much the total moves when one setting changes."""
    base = estimate(w, prices, figures, settings).total
    doubled_memory = replace(settings, memory_mb={k: v * 2 for k, v in settings.memory_mb.items()})
    no_gifs = replace(settings, gif_effects=0)
    standard_replica = replace(settings, replica_storage_class="STANDARD")
    half_bytes = replace(
        figures,
        rendition_bytes={k: v / 2 for k, v in figures.rendition_bytes.items()},
        gif_bytes={k: v / 2 for k, v in figures.gif_bytes.items()},
    )
    cases: list[tuple[str, Callable[[], float]]] = [
        (
            "every function's memory doubled",
            lambda: estimate(w, prices, figures, doubled_memory).total,
        ),
        ("no GIF effects", lambda: estimate(w, prices, figures, no_gifs).total),
        (
            "replica in STANDARD, not " + settings.replica_storage_class,
            lambda: estimate(w, prices, figures, standard_replica).total,
        ),
        (
            "twice the renditions per image",
            lambda: (
                estimate(
                    replace(w, renditions_per_image=w.renditions_per_image * 2),
                    prices,
                    figures,
                    settings,
                ).total
            ),
        ),
        (
            "cache hit ratio 5 points lower",
            lambda: (
                estimate(
                    replace(w, hit_ratio=max(0.0, w.hit_ratio - 0.05)), prices, figures, settings
                ).total
            ),
        ),
        (
            "renditions and GIFs half the bytes (smaller sizes, AVIF)",
            lambda: estimate(w, prices, half_bytes, settings).total,
        ),
        (
            "Origin Shield " + ("off" if w.origin_shield else "on"),
            lambda: (
                estimate(
                    replace(w, origin_shield=not w.origin_shield), prices, figures, settings
                ).total
            ),
        ),
    ]
    rows = []
    for label, total in cases:
        value = total()
        rows.append([label, _money(value), f"{(value - base) / base:+.1%}" if base else "n/a"])
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench cost", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--region", default="us-east-1", help="price file bench/prices/<region>.json"
    )
    parser.add_argument(
        "--workload",
        choices=[w.name for w in WORKLOADS],
        action="append",
        help="only these example workloads (default: all)",
    )
    parser.add_argument("--images", type=float, help="a workload of your own: stored images")
    parser.add_argument("--views", type=float, help="... rendition views a month")
    parser.add_argument(
        "--hit-ratio", type=float, default=0.9, help="... CloudFront cache hit ratio"
    )
    parser.add_argument("--uploads", type=float, help="... uploads a month")
    parser.add_argument("--renditions", type=float, default=4.0, help="... renditions per image")
    parser.add_argument("--origin-shield", action="store_true", help="... with Origin Shield")
    parser.add_argument(
        "--measure",
        action="store_true",
        help="measure the figures now (the benches' own pipelines) instead",
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"write the figures used to {FIGURES_FILE.relative_to(ROOT)}",
    )
    return parser


def choose_figures(measure_now: bool) -> Figures:
    if measure_now:
        return measure()
    return figures_from_run(MEASURED) or load_figures()


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    global MARKDOWN
    MARKDOWN = args.markdown
    custom = [args.images, args.views, args.uploads]
    if any(v is not None for v in custom) and not all(v is not None for v in custom):
        print("a workload of your own needs --images, --views and --uploads", file=sys.stderr)
        return 2
    try:
        workloads: Iterable[Workload] = (
            [
                Workload(
                    "yours",
                    args.images,
                    args.views,
                    args.hit_ratio,
                    args.uploads,
                    renditions_per_image=args.renditions,
                    origin_shield=args.origin_shield,
                )
            ]
            if args.images is not None
            else [w for w in WORKLOADS if not args.workload or w.name in args.workload]
        )
    except ValueError as error:
        print(f"bad workload: {error}", file=sys.stderr)
        return 2
    prices = load_prices(args.region)
    settings = stack_settings()
    figures = choose_figures(args.measure)
    if args.record:
        FIGURES_FILE.write_text(json.dumps(figures.as_json(), indent=2) + "\n")
        print(f"wrote {FIGURES_FILE.relative_to(ROOT)}")
    print(
        f"Prices: {prices.region}, read {prices.read_on} (bench/prices/{args.region}.json); "
        f"not confirmed on a stored AWS page: {', '.join(prices.unconfirmed) or 'none'}."
    )
    print(
        f"Figures: {figures.origin}, measured {figures.measured}: a rendition "
        f"{figures.mean_rendition_ms:.0f} ms and {figures.mean_rendition_bytes / 1024:.0f} KiB "
        f"(mean of {', '.join(figures.rendition_ms)}), a GIF {figures.mean_gif_ms:.0f} ms and "
        f"{figures.mean_gif_bytes / 1024:.0f} KiB, an original "
        f"{figures.original_bytes / 1024**2:.1f} MiB; on one core here, taken as one Lambda "
        f"vCPU, scaled to each function's memory (1 vCPU at {ONE_VCPU_MB} MB), plus "
        f"{IO_MS_ASSUMED:.0f} ms assumed for S3 I/O; the api function's {API_MS_ASSUMED:.0f} ms "
        "is assumed."
    )
    print(
        f"Settings (environments/stack): memory {dict(settings.memory_mb)} MB, "
        f"{settings.gif_effects} GIF effects, logs kept {settings.log_retention_days} days, "
        f"replica in {settings.replica_storage_class}, noncurrent versions kept "
        f"{settings.noncurrent_days} days. Free tiers not subtracted."
    )
    for w in workloads:
        result = estimate(w, prices, figures, settings)
        print_estimate(result, prices, figures)
        print(f"\nWhat moves the {w.name} total (${result.total:,.2f})")
        print_table(["change", "USD/month", "vs now"], sensitivity(w, prices, figures, settings))
        print_limits(w, result, settings)
    return 0


def run() -> None:
    """``python -m bench`` (make bench): the table from this run's figures, or the file's."""
    main([])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

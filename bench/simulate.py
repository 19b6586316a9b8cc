"""A day of the large site's rendition traffic against CloudFront's caches, with Origin Shield
off and on: ``python -m bench simulate``. It checks the cost model's miss and concurrency
figures (bench/cost.py) with events instead of averages.

The model:

- **Requests.** ``views / 30`` requests a day over ``images x renditions`` objects, Zipf
  distributed (rank k has weight k^-s, s = 0.9 by default), each object's requests a Poisson
  stream. The day has a diurnal profile, rate(t) = mean x (1 + 0.5 cos(2 pi t / day)): the
  busiest hour is 1.5x the mean, and the day starts at it (a launch at the worst hour).
- **Edge caches.** CloudFront's regional edge caches (6 for PriceClass_100, North America and
  Europe, the stack's default; equal shares of the traffic) each fetch an object from the
  origin once and keep it for the rest of the day (the renditions' TTL is 14 days; eviction of
  unpopular objects is not modelled, so the edges are at their best). A cache collapses its own
  simultaneous requests for one object into one origin request.
- **Origin Shield** (on): one more cache in front of the origin that every edge cache asks; it
  makes one origin request per object, and the edges' requests for an object being fetched wait
  for that fetch.
- **Origin.** An object already in the renditions bucket is an S3 GET. A missing one is made by
  the resize function, taking the resize bench's measured time for one of its four rendition
  cases (picked at random), scaled to the function's memory, plus 50 ms of S3 I/O (assumed).
  Until the first make of an object has finished, every other edge that asks for it starts a
  make of its own (S3 answers 403, CloudFront fails over to the function).
- **Two days.** A *steady day*: the edges and Origin Shield remember yesterday's objects, and
  the renditions of today's uploads are the only ones missing from S3. A *cold launch*: empty
  caches and nothing made yet (a launch, or ``avif_enabled``, which gives most browsers a new
  URL for every rendition).

A Poisson stream's first request falls at an exponentially distributed time, and after it the
edge serves the object from cache, so only first requests per edge are events. Objects popular
enough that two edges can ask within one make's time (the head: at least ``--head-rate``
requests a day) are replayed one event at a time; the many others (the tail) are counted with
the same formulas in closed form, in rank bins, and their makes spread over the day in
one-minute steps. Concurrency is the busy time of the resize function in each second (its
average concurrency over that second); the peak is the busiest second.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import random
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench import cost
from bench.common import MEASURED, print_table

DAY = 86_400
MINUTE = 60
AMPLITUDE = 0.5  # diurnal: the busiest hour is 1 + AMPLITUDE times the mean
EDGE_CACHES = 6
TAIL_BINS = 400


@dataclass(frozen=True)
class Params:
    objects: int
    requests_per_day: float
    zipf: float
    missing_fraction: float  # of objects, not in the renditions bucket at the start of the day
    warm_days: float  # days of earlier requests the caches remember (0: cold)
    durations_s: tuple[float, ...]  # a make, seconds (one picked at random per make)
    edge_weights: tuple[float, ...] = (1 / EDGE_CACHES,) * EDGE_CACHES
    head_rate: float = 100.0  # requests a day above which objects are replayed one by one
    seed: int = 1

    def __post_init__(self) -> None:
        if self.objects < 1 or self.requests_per_day <= 0:
            raise ValueError("objects and requests_per_day must be positive")
        if not 0 < self.zipf < 3:
            raise ValueError(f"zipf exponent must be between 0 and 3, got {self.zipf}")
        if not 0 <= self.missing_fraction <= 1:
            raise ValueError("missing_fraction must be a fraction from 0 to 1")
        if not self.durations_s or min(self.durations_s) <= 0:
            raise ValueError("durations_s must be positive seconds")
        if abs(sum(self.edge_weights) - 1) > 1e-9:
            raise ValueError("edge_weights must add up to 1")


@dataclass
class Outcome:
    requests: float = 0.0
    edge_misses: float = 0.0
    origin_requests: float = 0.0
    makes: float = 0.0
    objects_made: float = 0.0
    peak_concurrency: float = 0.0
    peak_second: int = 0
    concurrency: tuple[float, ...] = ()  # per second of the day

    @property
    def edge_miss_rate(self) -> float:
        return self.edge_misses / self.requests

    @property
    def origin_rate(self) -> float:
        return self.origin_requests / self.requests


class Clock:
    """Maps the day's cumulative traffic (0..1) to seconds and back, for the diurnal profile."""

    def __init__(self) -> None:
        self.table = [self.share(second) for second in range(DAY + 1)]

    @staticmethod
    def share(second: float) -> float:
        """The share of the day's traffic before ``second`` (the day starts at its peak)."""
        angle = 2 * math.pi * second / DAY
        return (second + AMPLITUDE * DAY / (2 * math.pi) * math.sin(angle)) / DAY

    def second(self, share: float) -> float:
        index = min(bisect.bisect_right(self.table, share), DAY) - 1
        low, high = self.table[index], self.table[min(index + 1, DAY)]
        return index + ((share - low) / (high - low) if high > low else 0.0)


def harmonic(n: int, s: float, exact: int) -> float:
    """sum(k^-s, k = 1..n): the first ``exact`` terms summed, the rest by the midpoint integral."""
    head = math.fsum(k**-s for k in range(1, min(n, exact) + 1))
    if n <= exact:
        return head
    a, b = exact + 0.5, n + 0.5
    rest = math.log(b / a) if s == 1 else (b ** (1 - s) - a ** (1 - s)) / (1 - s)
    return head + rest


def _busy(array: list[float], start: float, length: float) -> None:
    """Add the interval [start, start + length) seconds to per-second busy time."""
    end = min(start + length, DAY)
    second = int(start)
    while start < end and second < DAY:
        step = min(end, second + 1) - start
        array[second] += step
        start, second = start + step, second + 1


def simulate(p: Params, clock: Clock | None = None) -> dict[str, Outcome]:
    """One day with Origin Shield off and on: the same request stream for both."""
    clock = clock or Clock()
    rng = random.Random(p.seed)
    scale = p.requests_per_day / harmonic(p.objects, p.zipf, 1_000_000)
    # Ranks whose rate is at least head_rate (0: every object replayed; inf: none).
    head = (
        p.objects
        if p.head_rate <= 0
        else min(p.objects, int((scale / p.head_rate) ** (1 / p.zipf)))
    )
    out = {"off": Outcome(p.requests_per_day), "on": Outcome(p.requests_per_day)}
    busy = {"off": [0.0] * DAY, "on": [0.0] * DAY}
    weights = p.edge_weights

    for rank in range(1, head + 1):
        rate = scale * rank**-p.zipf
        missing = rng.random() < p.missing_fraction
        window = 0.0 if missing else p.warm_days  # a new object had no requests yesterday
        firsts = [rng.expovariate(rate * w) for w in weights]
        misses = sorted(clock.second(t - window) for t in firsts if window <= t < window + 1)
        if not misses:
            continue
        for variant in ("off", "on"):
            out[variant].edge_misses += len(misses)
        # Shield off: each edge's miss reaches the origin.
        out["off"].origin_requests += len(misses)
        if missing:
            ready = math.inf
            for at in misses:
                if at >= ready:
                    break  # made by now: the rest are S3 GETs
                length = rng.choice(p.durations_s)
                ready = min(ready, at + length)
                out["off"].makes += 1
                _busy(busy["off"], at, length)
            out["off"].objects_made += 1
        # Shield on: one origin request per object, unless the shield has it from yesterday.
        if min(firsts) < window:
            continue
        out["on"].origin_requests += 1
        if missing:
            out["on"].makes += 1
            out["on"].objects_made += 1
            _busy(busy["on"], misses[0], rng.choice(p.durations_s))

    # The tail, in rank bins, in closed form.
    mean_length = statistics.fmean(p.durations_s)
    minute_shares = [clock.share(m * MINUTE) for m in range(DAY // MINUTE + 1)]
    tail_makes = [0.0] * (DAY // MINUTE)
    if head < p.objects:
        bounds = sorted(
            {round(head + (p.objects - head) ** (i / TAIL_BINS)) for i in range(TAIL_BINS + 1)}
            | {head, p.objects}
        )
        for low, high in itertools.pairwise(bounds):
            count = high - low  # ranks low+1 .. high
            if count <= 0:
                continue
            mass = harmonic(high, p.zipf, 0) - harmonic(low, p.zipf, 0)
            rate = scale * mass / count  # the bin's mean rate
            f, w0 = p.missing_fraction, p.warm_days
            fresh = 1 - math.exp(-rate)
            edge = sum(
                (1 - f) * math.exp(-rate * w * w0) * (1 - math.exp(-rate * w))
                + f * (1 - math.exp(-rate * w))
                for w in weights
            )
            shield = (1 - f) * math.exp(-rate * w0) * fresh + f * fresh
            made = count * f * fresh
            for variant in ("off", "on"):
                out[variant].edge_misses += count * edge
                out[variant].makes += made
                out[variant].objects_made += made
            out["off"].origin_requests += count * edge
            out["on"].origin_requests += count * shield
            if made:
                # First requests fall at share u with density rate * exp(-rate * u).
                for minute in range(DAY // MINUTE):
                    a, b = minute_shares[minute], minute_shares[minute + 1]
                    tail_makes[minute] += count * f * (math.exp(-rate * a) - math.exp(-rate * b))

    for variant in ("off", "on"):
        seconds = busy[variant]
        for second in range(DAY):
            seconds[second] += tail_makes[second // MINUTE] / MINUTE * mean_length
        peak = max(range(DAY), key=seconds.__getitem__)
        out[variant].peak_concurrency = seconds[peak]
        out[variant].peak_second = peak
        out[variant].concurrency = tuple(seconds)
    return out


def durations(figures: cost.Figures, settings: cost.Settings) -> tuple[float, ...]:
    memory = settings.memory_mb["resize"]
    return tuple(
        (cost.lambda_ms(ms, memory) + cost.IO_MS_ASSUMED) / 1000
        for ms in figures.rendition_ms.values()
    )


def prod_reserved_concurrency() -> int:
    """functions.resize.reserved_concurrent_executions in environments/prod/main.tf (0: none)."""
    text = (cost.ROOT / "environments" / "prod" / "main.tf").read_text()
    match = re.search(r"resize\s*=\s*\{\s*reserved_concurrent_executions\s*=\s*(\d+)", text)
    return int(match[1]) if match else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench simulate", description=__doc__.split("\n")[0]
    )
    large = cost.WORKLOADS[-1]
    parser.add_argument("--images", type=float, default=large.images)
    parser.add_argument("--views", type=float, default=large.views, help="a month")
    parser.add_argument("--uploads", type=float, default=large.uploads, help="a month")
    parser.add_argument("--renditions", type=float, default=large.renditions_per_image)
    parser.add_argument("--zipf", type=float, default=0.9, help="Zipf exponent s")
    parser.add_argument(
        "--memory-days",
        type=float,
        default=1.0,
        help="days of requests the caches remember on the steady day (the TTL is 14 days; "
        "CloudFront evicts unpopular objects sooner)",
    )
    parser.add_argument(
        "--cap",
        type=int,
        default=prod_reserved_concurrency(),
        help="reserved concurrency of resize to compare with (default: environments/prod's)",
    )
    parser.add_argument("--head-rate", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=1)
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    started = time.perf_counter()
    figures = cost.figures_from_run(MEASURED) or cost.load_figures()
    lengths = durations(figures, cost.stack_settings())
    objects = int(args.images * args.renditions)
    try:
        days = {
            "steady day": Params(
                objects,
                args.views / 30,
                args.zipf,
                min(1.0, args.uploads / 30 * args.renditions / objects),
                args.memory_days,
                lengths,
                head_rate=args.head_rate,
                seed=args.seed,
            ),
            "cold launch": Params(
                objects,
                args.views / 30,
                args.zipf,
                1.0,
                0.0,
                lengths,
                head_rate=args.head_rate,
                seed=args.seed,
            ),
        }
    except ValueError as error:
        print(f"bad parameters: {error}", file=sys.stderr)
        return 2
    print(
        f"{args.images:,.0f} images x {args.renditions:g} renditions, {args.views / 30:,.0f} "
        f"requests a day, Zipf s = {args.zipf:g}, {EDGE_CACHES} edge caches; a make takes "
        f"{min(lengths) * 1000:.0f}-{max(lengths) * 1000:.0f} ms ({figures.origin}, "
        f"{figures.measured})"
    )
    clock = Clock()
    rows: list[list[object]] = []
    for name, params in days.items():
        result = simulate(params, clock)
        for variant, outcome in result.items():
            rows.append(
                [
                    name,
                    variant,
                    f"{outcome.edge_miss_rate:.2%}",
                    f"{outcome.origin_rate:.3%}",
                    f"{outcome.origin_requests:,.0f}",
                    f"{outcome.makes:,.0f}",
                    f"{outcome.makes - outcome.objects_made:,.0f}",
                    f"{outcome.peak_concurrency:,.0f}",
                    time.strftime("%H:%M:%S", time.gmtime(outcome.peak_second)),
                    f"{outcome.concurrency[MINUTE]:,.0f}",
                    f"{outcome.concurrency[3600]:,.0f}",
                    f"{sum(1 for c in outcome.concurrency if c > args.cap):,}" if args.cap else "-",
                ]
            )
    print_table(
        [
            "day",
            "Origin Shield",
            "edge miss rate",
            "origin rate",
            "origin requests",
            "resize invocations",
            "duplicate makes",
            "peak concurrent",
            "at",
            "at 1 min",
            "at 1 h",
            f"seconds over {args.cap}",
        ],
        rows,
        left=(0, 1),
    )
    print(
        "Rates are of all requests; concurrency is the resize function's average over a second "
        "(second 0 is the busiest hour); the last column counts the seconds it is above the "
        f"reserved concurrency (--cap), where the excess gets 429s. Edges remember "
        f"{args.memory_days:g} day(s) on the steady day. {time.perf_counter() - started:.0f} s."
    )
    return 0


def run() -> None:
    """``python -m bench`` (make bench): the large site's day."""
    main([])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

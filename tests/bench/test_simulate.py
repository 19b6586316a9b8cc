"""The simulation behind docs/cost-and-scale.md (python -m bench simulate): its replayed events
and its closed-form tail agree, Origin Shield makes one origin request per object, and an edge
that asks while a make is under way starts another."""

from __future__ import annotations

import math

import pytest

from bench import simulate

CLOCK = simulate.Clock()


def params(**changes: object) -> simulate.Params:
    base: dict[str, object] = {
        "objects": 20_000,
        "requests_per_day": 50_000.0,
        "zipf": 0.9,
        "missing_fraction": 1.0,
        "warm_days": 0.0,
        "durations_s": (0.2, 0.4),
        "seed": 3,
    }
    base.update(changes)
    return simulate.Params(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zipf": 0.0}, "zipf"),
        ({"missing_fraction": 1.5}, "missing_fraction"),
        ({"durations_s": ()}, "durations_s"),
        ({"durations_s": (0.0,)}, "durations_s"),
        ({"edge_weights": (0.5, 0.4)}, "edge_weights"),
        ({"objects": 0}, "objects"),
    ],
)
def test_bad_parameters_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        params(**changes)


def test_the_harmonic_sum_integral_matches_the_exact_sum() -> None:
    exact = math.fsum(k**-0.9 for k in range(1, 200_001))
    assert simulate.harmonic(200_000, 0.9, 1_000) == pytest.approx(exact, rel=1e-6)
    assert simulate.harmonic(200_000, 1.0, 10) == pytest.approx(
        math.fsum(1 / k for k in range(1, 200_001)), rel=1e-4
    )


def test_the_clock_spreads_the_day_by_the_diurnal_profile() -> None:
    assert CLOCK.second(0.0) == 0
    assert CLOCK.second(1.0) == pytest.approx(simulate.DAY, abs=1)
    # The day starts at its busiest hour: the first hour carries 1.5x an average hour.
    assert simulate.Clock.share(3600) == pytest.approx(1.5 / 24, rel=0.01)
    assert CLOCK.second(simulate.Clock.share(12_345.5)) == pytest.approx(12_345.5, abs=0.01)


def test_replayed_events_and_the_closed_form_tail_agree() -> None:
    replayed = simulate.simulate(params(head_rate=0.0), CLOCK)  # every object one by one
    closed = simulate.simulate(params(head_rate=math.inf), CLOCK)  # every object in closed form
    for variant in ("off", "on"):
        assert closed[variant].edge_misses == pytest.approx(replayed[variant].edge_misses, rel=0.02)
        assert closed[variant].origin_requests == pytest.approx(
            replayed[variant].origin_requests, rel=0.02
        )
        assert closed[variant].objects_made == pytest.approx(
            replayed[variant].objects_made, rel=0.02
        )


def test_origin_shield_makes_each_object_once_and_fewer_origin_requests() -> None:
    result = simulate.simulate(params(head_rate=0.0), CLOCK)
    on, off = result["on"], result["off"]
    assert on.makes == on.objects_made
    assert on.origin_requests == on.objects_made  # nothing was in S3: every fetch is a make
    assert off.origin_requests == off.edge_misses
    assert on.origin_requests < off.origin_requests


def test_edges_asking_during_a_make_each_start_one_without_origin_shield() -> None:
    # One object asked for a million times a day: every edge asks within the first second,
    # while its 10-second make is still running.
    hot = params(objects=1, requests_per_day=1e6, durations_s=(10.0,), head_rate=0.0)
    result = simulate.simulate(hot, CLOCK)
    assert result["off"].makes == simulate.EDGE_CACHES
    assert result["on"].makes == 1
    assert result["off"].peak_concurrency == pytest.approx(simulate.EDGE_CACHES, abs=0.5)


def test_a_steady_day_makes_only_the_missing_and_remembers_yesterday() -> None:
    steady = simulate.simulate(params(missing_fraction=0.0, warm_days=1.0, head_rate=0.0), CLOCK)
    cold = simulate.simulate(params(head_rate=0.0), CLOCK)
    assert steady["off"].makes == 0
    assert steady["off"].peak_concurrency == 0
    assert steady["off"].edge_misses < cold["off"].edge_misses


def test_the_command_prints_both_days_with_and_without_origin_shield(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.__main__ import main as bench_main

    assert bench_main(["simulate", "--images", "1000", "--views", "1e6", "--uploads", "100"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    days = [(row[0], row[2]) for row in rows if row[:2] in (["steady", "day"], ["cold", "launch"])]
    assert days == [("steady", "off"), ("steady", "on"), ("cold", "off"), ("cold", "on")]


def test_the_command_refuses_a_zipf_exponent_out_of_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert simulate.main(["--zipf", "0"]) == 2
    assert "zipf" in capsys.readouterr().err

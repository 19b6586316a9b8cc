"""The cost model's arithmetic (python -m bench cost), checked on a tiny workload worked by hand
from the price file, line by line; and its refusals of bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import cost

PRICES = json.loads((cost.PRICES_DIR / "us-east-1.json").read_text())["prices"]
GIB = 1024**3


def price(name: str) -> float:
    return float(PRICES[name]["usd"])


def first_tier(name: str) -> float:
    return float(PRICES[name]["usd_tiers"][0][1])


# Measured figures made up for the hand calculation: round numbers.
FIGURES = cost.Figures(
    rendition_ms={"a": 100.0, "b": 300.0},  # mean 200 ms
    rendition_bytes={"a": 100_000.0, "b": 300_000.0},  # mean 200,000 bytes
    gif_ms={"zoom": 1000.0},
    gif_bytes={"zoom": 1_000_000.0},
    original_bytes=4 * 1024**2,
    measured="test",
    origin="test",
)
SETTINGS = cost.Settings(
    memory_mb={"api": 1024, "resize": 2048, "uploads": 1024, "effects": 3538},
    gif_effects=1,
    log_retention_days=30,
    noncurrent_days=6,
    replica_storage_class="ONEZONE_IA",
)
TINY = cost.Workload(
    "tiny",
    images=100,
    views=10_000,
    hit_ratio=0.5,
    uploads=10,
    renditions_per_image=2,
    replaced_fraction=0.5,
    origin_shield=True,
    shield_hit_ratio=0.5,
    gif_view_fraction=0.0,
)


@pytest.fixture(scope="module")
def tiny() -> dict[str, float]:
    result = cost.estimate(TINY, cost.load_prices("us-east-1"), FIGURES, SETTINGS)
    lines = {f"{line.service}: {line.charge}": line.usd for line in result.lines}
    assert len(lines) == len(result.lines), "two lines with the same name"
    lines["total"] = result.total
    return lines


def line(lines: dict[str, float], start: str) -> float:
    found = [usd for name, usd in lines.items() if name.startswith(start)]
    assert len(found) == 1, f"{start!r} matches {len(found)} lines"
    return found[0]


def test_cloudfront_lines_by_hand(tiny: dict[str, float]) -> None:
    # 10,000 views of 200,000 bytes; every view an HTTPS request and a function call.
    transfer_gb = 10_000 * 200_000 / GIB
    assert line(tiny, "CloudFront: data transfer") == pytest.approx(
        transfer_gb * first_tier("cloudfront_transfer_out_gb")
    )
    assert line(tiny, "CloudFront: HTTPS") == pytest.approx(
        10_000 * price("cloudfront_https_request")
    )
    assert line(tiny, "CloudFront: function") == pytest.approx(
        10_000 * price("cloudfront_function_invocation")
    )
    # Half the views miss the edges: 5,000 go through Origin Shield.
    assert line(tiny, "CloudFront: Origin Shield") == pytest.approx(
        5_000 * price("cloudfront_origin_shield_request")
    )


def test_lambda_lines_by_hand(tiny: dict[str, float]) -> None:
    gb_s = price("lambda_arm64_gb_second")
    # resize: 10 uploads x 2 renditions = 20 invocations of (200 ms + 50 ms I/O) at 2 GB.
    assert line(tiny, "Lambda: resize requests") == pytest.approx(20 * price("lambda_request"))
    assert line(tiny, "Lambda: resize compute") == pytest.approx(20 * 0.250 * 2 * gb_s)
    # effects: 10 GIFs of 1,000 ms at 3,538 MB (two vCPUs: no faster for one thread) + 50 ms.
    assert line(tiny, "Lambda: effects compute") == pytest.approx(10 * 1.050 * (3538 / 1024) * gb_s)
    # uploads: 10 of one rendition's 200 ms at 1,024 MB, which has 1024/1769 of a vCPU.
    uploads_s = (0.200 * 1769 / 1024) + 0.050
    assert line(tiny, "Lambda: uploads compute") == pytest.approx(10 * uploads_s * 1 * gb_s)
    # api: 3 calls per upload, 60 ms assumed, 1 GB.
    assert line(tiny, "Lambda: api requests") == pytest.approx(30 * price("lambda_request"))
    assert line(tiny, "Lambda: api compute") == pytest.approx(30 * 0.060 * 1 * gb_s)
    assert line(tiny, "API Gateway: REST") == pytest.approx(30 * first_tier("apigw_rest_request"))


def test_s3_lines_by_hand(tiny: dict[str, float]) -> None:
    original_gb = 4 * 1024**2 / GIB
    assert line(tiny, "S3: originals") == pytest.approx(
        100 * original_gb * price("s3_standard_gb_month")
    )
    # 10 uploads, half of them new versions, each kept 6 of 30 days.
    assert line(tiny, "S3: noncurrent") == pytest.approx(
        5 * original_gb * 6 / 30 * price("s3_standard_gb_month")
    )
    assert line(tiny, "S3: replica, ") == pytest.approx(
        100 * original_gb * price("s3_onezone_ia_gb_month")
    )
    # 100 images x (2 renditions of 200,000 bytes + 1 GIF of 1,000,000 bytes).
    assert line(tiny, "S3: renditions") == pytest.approx(
        100 * 1_400_000 / GIB * price("s3_standard_gb_month")
    )
    # PUTs: 10 browser POSTs + 10 into originals + 20 renditions + 10 GIFs.
    assert line(tiny, "S3: PUT") == pytest.approx(50 * price("s3_put_request"))
    # GETs: 10 by uploads + 20 by resize + 10 by the effect + 2,500 origin fetches (5,000 edge
    # misses, half answered by Origin Shield).
    assert line(tiny, "S3: GET") == pytest.approx(2_540 * price("s3_get_request"))
    assert line(tiny, "S3: replication PUTs") == pytest.approx(10 * price("s3_ia_put_request"))
    assert line(tiny, "S3: replication transfer") == pytest.approx(
        10 * original_gb * price("s3_replication_transfer_gb")
    )


def test_the_other_services_by_hand(tiny: dict[str, float]) -> None:
    # DynamoDB: 10 uploads x (2 + 1 effect) writes; 30 API reads + 20 renditions' reads.
    assert line(tiny, "DynamoDB: write") == pytest.approx(30 * price("dynamodb_write_request_unit"))
    assert line(tiny, "DynamoDB: read") == pytest.approx(50 * price("dynamodb_read_request_unit"))
    assert line(tiny, "SNS: publishes") == pytest.approx(10 * price("sns_publish"))
    # Two queues (one effect, uploads), 3 requests per message; 5 pollers each, 20 s polls.
    assert line(tiny, "SQS: send") == pytest.approx(60 * price("sqs_request"))
    polls = 2 * 5 * 30 * 24 * 3600 / 20
    assert line(tiny, "SQS: idle") == pytest.approx(polls * price("sqs_request"))
    # Logs: (20 + 10 + 10 + 30) invocations x 1,500 bytes + 30 access-log lines x 500 bytes.
    log_gb = (70 * 1500 + 30 * 500) / GIB
    assert line(tiny, "CloudWatch: log ingestion") == pytest.approx(
        log_gb * price("cloudwatch_logs_ingest_gb")
    )
    assert line(tiny, "CloudWatch: log storage") == pytest.approx(
        log_gb * price("cloudwatch_logs_storage_gb_month")
    )
    assert line(tiny, "CloudWatch: alarms") == pytest.approx(6 * price("cloudwatch_alarm_month"))
    assert line(tiny, "CloudWatch: dashboard") == pytest.approx(price("cloudwatch_dashboard_month"))


def test_total_is_the_sum_of_the_lines(tiny: dict[str, float]) -> None:
    assert tiny["total"] == pytest.approx(sum(v for k, v in tiny.items() if k != "total"))


def test_without_origin_shield_every_edge_miss_reaches_s3() -> None:
    result = cost.estimate(
        cost.Workload("x", 100, 10_000, 0.5, 10, renditions_per_image=2, origin_shield=False),
        cost.load_prices("us-east-1"),
        FIGURES,
        SETTINGS,
    )
    charges = {line.charge: line for line in result.lines}
    assert "Origin Shield requests" not in charges
    assert charges["GET requests"].quantity == 10 + 20 + 10 + 5_000


def test_tiers_are_applied_in_order() -> None:
    prices = cost.load_prices("us-east-1")
    # 10 TB at the first price, 100 GB more at the second.
    expected = 10_240 * 0.085 + 100 * 0.080
    assert prices.tiered("cloudfront_transfer_out_gb", 10_340) == pytest.approx(expected)
    assert prices.tiered("apigw_rest_request", 334_000_000) == pytest.approx(
        333_000_000 * 0.0000035 + 1_000_000 * 0.0000028
    )


def test_duration_scales_with_memory_below_one_vcpu_only() -> None:
    assert cost.lambda_ms(100.0, 1769) == pytest.approx(100.0)
    assert cost.lambda_ms(100.0, 3538) == pytest.approx(100.0)
    assert cost.lambda_ms(100.0, 884) == pytest.approx(100.0 * 1769 / 884)


def test_flat_rate_plan_named_when_it_covers_the_month_and_none_when_nothing_does() -> None:
    prices = cost.load_prices("us-east-1")
    small = cost.estimate(TINY, prices, FIGURES, SETTINGS)
    advice = cost.flat_rate_advice(small, prices, FIGURES)
    assert advice.plan == "Free"  # 10,000 requests and 2 GB
    large = cost.estimate(cost.WORKLOADS[-1], prices, FIGURES, SETTINGS)
    assert cost.flat_rate_advice(large, prices, FIGURES).plan is None  # 10B requests


@pytest.mark.parametrize(
    ("field", "value"),
    [("views", -1.0), ("images", math.nan), ("hit_ratio", 1.5), ("shield_hit_ratio", -0.1)],
)
def test_a_workload_out_of_range_is_refused(field: str, value: float) -> None:
    arguments = {"images": 1.0, "views": 1.0, "hit_ratio": 0.5, "uploads": 1.0, field: value}
    with pytest.raises(ValueError, match=field):
        cost.Workload("bad", **arguments)  # type: ignore[arg-type]


def test_the_command_refuses_half_a_workload_and_an_unknown_region(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cost.main(["--images", "10", "--views", "100"]) == 2
    assert "--uploads" in capsys.readouterr().err
    assert (
        cost.main(["--images", "10", "--views", "100", "--uploads", "1", "--hit-ratio", "2"]) == 2
    )
    assert "hit_ratio" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="no price file for mars-north-1"):
        cost.main(["--region", "mars-north-1"])


def test_settings_are_read_from_the_stack() -> None:
    settings = cost.stack_settings()
    text = (cost.STACK / "variables.tf").read_text()
    assert settings.memory_mb["resize"] > 0
    assert (
        f"memory_size                    = optional(number, {settings.memory_mb['resize']})" in text
    )
    assert settings.gif_effects == 3
    assert settings.replica_storage_class == "ONEZONE_IA"


def test_settings_without_a_memory_default_are_refused(tmp_path: Path) -> None:
    (tmp_path / "environments" / "stack").mkdir(parents=True)
    (tmp_path / "environments" / "stack" / "variables.tf").write_text(
        'variable "functions" {\n  type = object({ api = optional(object({}), {}) })\n}\n'
    )
    with pytest.raises(ValueError, match=r"functions\.api"):
        cost.stack_settings(tmp_path)


def test_figures_come_from_this_run_only_when_both_benches_ran() -> None:
    partial = {"rendition_ms": {"256 jpeg": 90.0}, "rendition_bytes": {"256 jpeg": 5000.0}}
    assert cost.figures_from_run(partial) is None
    whole = {
        **partial,
        "gif_ms": {"zoom": 400.0},
        "gif_bytes": {"zoom": 300_000.0},
        "original_bytes": {"jpeg 12MP": 4_000_000.0},
    }
    figures = cost.figures_from_run(whole)
    assert figures is not None
    assert figures.mean_gif_ms == 400.0
    assert figures.original_bytes == 4_000_000.0


def test_the_committed_figures_file_says_when_and_where() -> None:
    figures = cost.load_figures()
    assert figures.measured[:4].isdigit()
    assert figures.rendition_ms
    assert all(v > 0 for v in figures.rendition_ms.values())
    assert figures.gif_ms
    assert all(v > 0 for v in figures.gif_ms.values())


def test_every_price_names_its_source() -> None:
    for name, item in PRICES.items():
        assert item.get("source"), f"{name} has no source"
        assert "confirmed" in item, f"{name} does not say whether it was confirmed"


def test_the_command_prints_every_workload_with_its_total(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.__main__ import main as bench_main

    assert bench_main(["cost", "--workload", "small", "--workload", "large"]) == 0
    out = capsys.readouterr().out
    small = cost.estimate(
        cost.WORKLOADS[0], cost.load_prices("us-east-1"), cost.load_figures(), cost.stack_settings()
    )
    assert f"{small.total:,.2f}" in out
    assert "\nmedium:" not in out
    assert "No CloudFront flat-rate plan covers" in out  # the large site
    assert "Lambda concurrent executions" in out

"""A real `terraform apply` of environments/dev against moto, a no-op re-plan, then `destroy`.

environments/dev is a stage root that calls environments/stack; the state of the layout before
that (every module called from the stage root) moves to the new addresses without a change.

Runs in a throwaway copy of the repository's Terraform (plus freshly built dist/ artifacts)
with override files that point the providers at moto and the backend at a local file. Known
moto gaps that show up as drift are ignored there, and only there (MODULE_OVERRIDES).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.terraform.against_moto import REGION, Moto, provider_override
from tests.terraform.tf import ROOT, Terraform, copy_infra

if TYPE_CHECKING:
    from tests.terraform.conftest import AppliedDev

# Apply and destroy take minutes each (more on a busy machine): above the suite default.
pytestmark = [pytest.mark.terraform, pytest.mark.slow, pytest.mark.timeout(1800)]

REPLICA_REGION = "eu-central-1"

# moto 5.2.1 stores these settings but reads them back differently (or not at all), which a
# re-plan would report as changes. Ignored in the throwaway copy only.
MODULE_OVERRIDES = {
    # Drops function associations and origin access control ids, adds legacy forwarded_values
    # and an ssl_support_method to distributions.
    "cdn": (
        "aws_cloudfront_distribution",
        "this",
        "origin, default_cache_behavior, ordered_cache_behavior, viewer_certificate",
    ),
    # Re-serialises the redrive policy JSON with other whitespace.
    "fanout": ("aws_sqs_queue", "this", "redrive_policy"),
    # Reads delete marker replication back as Disabled.
    "storage-with-replication": ("aws_s3_bucket_replication_configuration", "this", "rule"),
}

# moto 5.2.1 has no CloudFront CreateMonitoringSubscription: the apply runs without CloudFront's
# additional metrics (the plans in test_environments.py show the subscription). The dashboard
# and every alarm, the CDN's in us-east-1 too, are applied.
MOTO_STACK_SETTINGS = 'module "stack" {\n  cdn_additional_metrics_enabled = false\n}\n'

# What the stack gained after the old layout (every module called from the stage root): a stage
# applied then gets these as new resources, and nothing else changes.
NEW_SINCE_THE_OLD_LAYOUT = ("module.stack.module.monitoring",)

# A small web page standing in for web/ (which may not exist yet), with the files the
# environment must skip: dotfiles and a local config.js.
WEB_FIXTURE = {
    "index.html": "<!doctype html><title>imgsvc</title><script src=config.js></script>\n",
    "app.js": "console.log(window.IMGSVC_CONFIG);\n",
    "styles/site.css": "body { margin: 0 }\n",
    "logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "config.js": "window.IMGSVC_CONFIG = {apiBaseUrl: '', cdnBaseUrl: '/cdn'};\n",
    ".DS_Store": "junk",
}


@dataclass
class Stack:
    directory: Path
    terraform: Terraform
    moto: Moto
    outputs: dict[str, Any] = field(default_factory=dict)
    destroyed: bool = False

    def tf(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.terraform.run(self.directory, *args, check=check, timeout=1800)

    def plan_args(self) -> list[str]:
        return ["-var=cdn_wait_for_deployment=false", "-no-color"]


def module_override(resource_type: str, name: str, ignored: str) -> str:
    return (
        f'resource "{resource_type}" "{name}" {{\n'
        f"  lifecycle {{\n    ignore_changes = [{ignored}]\n  }}\n}}\n"
    )


def prepare_copy(root: Path, moto: Moto, *, web: dict[str, str] | None, dist: Path | None) -> Path:
    """A throwaway copy of the Terraform with moto overrides; returns environments/dev in it."""
    copy_infra(root)
    shutil.rmtree(root / "web", ignore_errors=True)
    for name, text in (web or {}).items():
        (root / "web" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "web" / name).write_text(text)
    if dist is not None:
        shutil.copytree(dist, root / "dist")
    for module, (resource_type, name, ignored) in MODULE_OVERRIDES.items():
        override = root / "modules" / module / "zz_moto_override.tf"
        override.write_text(module_override(resource_type, name, ignored))
    environment = root / "environments" / "dev"
    (environment / "zz_moto_override.tf").write_text(provider_override(moto.endpoint))
    (environment / "zz_moto_stack_override.tf").write_text(MOTO_STACK_SETTINGS)
    return environment


def build_artifacts(dist: Path) -> Path:
    """The real build (function zips and the arm64 layer from the cached wheels) into dist."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--dist", str(dist)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return dist


@contextmanager
def applied_stack(root: Path, terraform: Terraform, moto: Moto, artifacts: Path) -> Iterator[Stack]:
    """environments/dev applied to moto from a copy in root; destroyed on exit unless a test did."""
    directory = prepare_copy(root, moto, web=WEB_FIXTURE, dist=artifacts)
    stack = Stack(directory, terraform, moto)
    stack.tf("init", "-input=false", "-no-color", "-lockfile=readonly")
    try:
        stack.tf("apply", "-auto-approve", "-input=false", *stack.plan_args())
        outputs = json.loads(stack.tf("output", "-json").stdout)
        stack.outputs = {name: value["value"] for name, value in outputs.items()}
        yield stack
    finally:
        if not stack.destroyed:
            stack.tf("destroy", "-auto-approve", "-input=false", *stack.plan_args(), check=False)


# One apply per test run, shared with test_rehearsal (conftest.py: applied_dev).
@pytest.fixture(scope="module")
def moto(dev_moto: Moto) -> Moto:
    return dev_moto


@pytest.fixture(scope="module")
def artifacts(applied_dev: AppliedDev) -> Path:
    return applied_dev.artifacts


@pytest.fixture(scope="module")
def stack(applied_dev: AppliedDev) -> Stack:
    return applied_dev.stack


def test_apply_outputs_name_everything_after_the_stage(stack: Stack) -> None:
    out = stack.outputs
    assert out["api_url"].startswith("https://")
    assert out["api_url"].endswith(".amazonaws.com/v1")
    assert out["cdn_url"].startswith("https://")
    assert out["cdn_url"].endswith(".cloudfront.net")
    assert out["table_name"] == "imgsvc-dev-images"
    for bucket in ("originals", "replica", "renditions", "uploads"):
        assert out[f"{bucket}_bucket_name"] == f"imgsvc-dev-123456789012-{bucket}"
    assert out["site_bucket_name"].startswith("imgsvc-dev-site-")
    assert out["function_names"] == {
        "api": "imgsvc-dev-api",
        "resize": "imgsvc-dev-resize",
        "uploads": "imgsvc-dev-uploads",
        "effect-zoom": "imgsvc-dev-effect-zoom",
        "effect-spin": "imgsvc-dev-effect-spin",
        "effect-hue": "imgsvc-dev-effect-hue",
    }
    api_key = json.loads(stack.tf("output", "-json", "api_key").stdout)
    assert isinstance(api_key, str)
    assert len(api_key) >= 20


def test_second_plan_has_no_changes(stack: Stack) -> None:
    result = stack.tf("plan", "-detailed-exitcode", "-input=false", *stack.plan_args(), check=False)
    assert result.returncode == 0, f"expected no changes:\n{result.stdout[-8000:]}{result.stderr}"


# Where the stage root called every module itself (before environments/stack): the function
# calls, by their key in the stack's module "function".
OLD_FUNCTION_CALLS = {"api": "module.api_function", "uploads": "module.uploads_function"}


def old_module_address(module: str | None) -> str | None:
    """The module address a resource had in the old layout, from its address in the stack."""
    assert module is not None, "every resource of the stage is in module.stack"
    assert module == "module.stack" or module.startswith("module.stack."), module
    inner = module.removeprefix("module.stack").removeprefix(".")
    match = re.match(r'module\.function\["([^"]+)"\](.*)', inner)
    if match:
        key, rest = match[1], match[2]
        effect = key.removeprefix("effect-")
        call = OLD_FUNCTION_CALLS.get(key, f'module.effects["{effect}"]')
        inner = call + rest
    return inner or None


def test_state_of_the_old_layout_moves_without_changes(stack: Stack) -> None:
    # A stage applied with the old layout: this stack's state at the old addresses, planned in a
    # sibling root (the live state is left alone). moved.tf must take every resource home.
    state = json.loads(stack.tf("state", "pull").stdout)
    new_since = NEW_SINCE_THE_OLD_LAYOUT
    state["resources"] = [
        r for r in state["resources"] if not r.get("module", "").startswith(new_since)
    ]
    managed = 0
    for resource in state["resources"]:
        old = old_module_address(resource.get("module"))
        resource.pop("module")
        if old:
            resource["module"] = old
        if resource["mode"] == "managed":
            managed += len(resource["instances"])
    old_root = stack.directory.with_name("dev-old-layout")
    shutil.copytree(stack.directory, old_root)
    (old_root / "terraform.tfstate.backup").unlink(missing_ok=True)
    (old_root / "terraform.tfstate").write_text(json.dumps(state))
    moved = Stack(old_root, stack.terraform, stack.moto)
    moved.tf("plan", "-refresh=false", "-input=false", "-out=tfplan", *moved.plan_args())
    plan = json.loads(moved.tf("show", "-json", "tfplan").stdout)
    changes = plan["resource_changes"]
    new = [c for c in changes if c["address"].startswith(NEW_SINCE_THE_OLD_LAYOUT)]
    assert new
    assert all(c["change"]["actions"] == ["create"] for c in new)
    changes = [c for c in changes if c not in new]
    assert [c["address"] for c in changes if c["change"]["actions"] != ["no-op"]] == []
    assert len([c for c in changes if c.get("previous_address")]) == managed


def test_functions_run_the_manifest_handlers_with_the_layer(stack: Stack, artifacts: Path) -> None:
    manifest = json.loads((artifacts / "manifest.json").read_text())
    lam = stack.moto.client("lambda")
    layers = lam.list_layer_versions(LayerName="imgsvc-dev-dependencies")["LayerVersions"]
    assert len(layers) == 1
    layer_arn = layers[0]["LayerVersionArn"]
    roles = {
        "api": "api",
        "resize": "resize",
        "uploads": "uploads",
        "effect-zoom": "effects",
        "effect-spin": "effects",
        "effect-hue": "effects",
    }
    for role, function_name in stack.outputs["function_names"].items():
        config = lam.get_function_configuration(FunctionName=function_name)
        entry = manifest["functions"][roles[role]]
        assert config["Handler"] == entry["handler"]
        assert config["Runtime"] == manifest["runtime"]
        assert config["Architectures"] == [manifest["arch"]]
        assert config["CodeSha256"] == entry["sha256_b64"]
        assert [layer["Arn"] for layer in config["Layers"]] == [layer_arn]


def test_function_environments_carry_the_config_names(stack: Stack) -> None:
    out = stack.outputs
    lam = stack.moto.client("lambda")

    def env(name: str) -> dict[str, str]:
        config = lam.get_function_configuration(FunctionName=name)
        return dict(config["Environment"]["Variables"])

    common = {
        "IMGSVC_TABLE_NAME": out["table_name"],
        "IMGSVC_ORIGINALS_BUCKET": out["originals_bucket_name"],
        "IMGSVC_REPLICA_BUCKET": out["replica_bucket_name"],
        "IMGSVC_REPLICA_REGION": REPLICA_REGION,
        "IMGSVC_RENDITIONS_BUCKET": out["renditions_bucket_name"],
        "IMGSVC_UPLOADS_BUCKET": out["uploads_bucket_name"],
        "IMGSVC_GIF_EFFECTS": "zoom,spin,hue",
    }
    names = out["function_names"]
    for name in names.values():
        assert common.items() <= env(name).items(), name
    api = env(names["api"])
    assert api["IMGSVC_CDN_BASE_URL"] == out["cdn_url"]
    assert api["IMGSVC_CORS_ORIGINS"].split(",")[0] == out["cdn_url"]
    assert "http://127.0.0.1:8080" in api["IMGSVC_CORS_ORIGINS"].split(",")
    # resize is the CDN's origin: its CDN URL comes from the API stage, never its environment.
    assert "IMGSVC_CDN_BASE_URL" not in env(names["resize"])
    for effect in ("zoom", "spin", "hue"):
        assert env(names[f"effect-{effect}"])["IMGSVC_EFFECT"] == effect
    assert "IMGSVC_EFFECT" not in env(names["uploads"])
    assert api["IMGSVC_AVIF_ENABLED"] == env(names["resize"])["IMGSVC_AVIF_ENABLED"] == "false"


def test_consumers_know_which_attempt_is_their_last(stack: Stack) -> None:
    # A consumer records a failure on the queue's last receive, before the DLQ takes the message.
    lam = stack.moto.client("lambda")
    sqs = stack.moto.client("sqs")
    for role, name in stack.outputs["function_names"].items():
        if role not in ("uploads", "effect-zoom", "effect-spin", "effect-hue"):
            continue
        variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        (mapping,) = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        queue_name = mapping["EventSourceArn"].rsplit(":", 1)[1]
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
        assert int(variables["IMGSVC_MAX_RECEIVE_COUNT"]) == int(redrive["maxReceiveCount"]), role


def test_each_dlq_takes_messages_from_its_own_queue_only(stack: Stack) -> None:
    sqs = stack.moto.client("sqs")
    checked = 0
    for url in sqs.list_queues()["QueueUrls"]:
        names = ["QueueArn", "RedrivePolicy"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if "RedrivePolicy" not in attributes:
            continue
        dlq_name = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].rsplit(":", 1)[1]
        dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
        allow = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["RedriveAllowPolicy"])
        assert json.loads(allow["Attributes"]["RedriveAllowPolicy"]) == {
            "redrivePermission": "byQueue",
            "sourceQueueArns": [attributes["QueueArn"]],
        }, dlq_name
        checked += 1
    assert checked == 4  # uploads and the three effects


def test_api_stage_hands_the_cdn_url_to_the_functions(stack: Stack) -> None:
    apigw = stack.moto.client("apigateway")
    api_id = stack.outputs["api_url"].split("//")[1].split(".")[0]
    stage = apigw.get_stage(restApiId=api_id, stageName="v1")
    assert stage["variables"]["cdnBaseUrl"] == stack.outputs["cdn_url"]


def _role_policy(stack: Stack, function_name: str) -> dict[str, Any]:
    iam = stack.moto.client("iam")
    role_arn = stack.moto.client("lambda").get_function_configuration(FunctionName=function_name)
    role = role_arn["Role"].rsplit("/", 1)[1]
    # IAM is global: the role's name carries the region, so another region's stage gets its own.
    assert role == f"{function_name}-{REGION}"
    policies = iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert len(policies) == 1
    document = iam.get_role_policy(RoleName=role, PolicyName=policies[0])
    return dict(document["PolicyDocument"])


def _statements(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy["Statement"]}


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_each_function_role_grants_only_its_own_work(stack: Stack) -> None:
    out = stack.outputs
    names = out["function_names"]
    for name in names.values():
        for statement in _role_policy(stack, name)["Statement"]:
            actions = _as_list(statement["Action"])
            resources = _as_list(statement["Resource"])
            assert "*" not in actions, (name, statement)
            assert not any(a.endswith(":*") for a in actions), (name, statement)
            if resources == ["*"]:
                assert set(actions) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}

    renditions = f"arn:aws:s3:::{out['renditions_bucket_name']}"
    zoom = _statements(_role_policy(stack, names["effect-zoom"]))
    assert set(_as_list(zoom["WriteGifs"]["Resource"])) == {
        f"{renditions}/gifs/*/zoom.gif",
        f"{renditions}/gifs/*/zoom.failed",
    }
    # gifs.make_effect reads, writes and, for an image deleted meanwhile, deletes them.
    assert set(_as_list(zoom["WriteGifs"]["Action"])) == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
    }
    assert _as_list(zoom["ConsumeQueue"]["Resource"]) == [
        "arn:aws:sqs:eu-west-1:123456789012:imgsvc-dev-originals-zoom"
    ]
    # The queue ARN the policy names is the queue the function really drains.
    lam = stack.moto.client("lambda")
    mappings = lam.list_event_source_mappings(FunctionName=names["effect-zoom"])
    assert [m["EventSourceArn"] for m in mappings["EventSourceMappings"]] == _as_list(
        zoom["ConsumeQueue"]["Resource"]
    )
    uploads = _statements(_role_policy(stack, names["uploads"]))
    mappings = lam.list_event_source_mappings(FunctionName=names["uploads"])
    assert [m["EventSourceArn"] for m in mappings["EventSourceMappings"]] == _as_list(
        uploads["ConsumeQueue"]["Resource"]
    )
    api = _statements(_role_policy(stack, names["api"]))
    assert _as_list(api["DirectUploads"]["Resource"]) == [
        f"arn:aws:s3:::{out['uploads_bucket_name']}/uploads/*"
    ]
    resize = _statements(_role_policy(stack, names["resize"]))
    assert set(_as_list(resize["Renditions"]["Action"])) == {"s3:GetObject", "s3:PutObject"}
    assert _as_list(resize["Renditions"]["Resource"]) == [f"{renditions}/r/*"]
    assert set(_as_list(resize["Metadata"]["Action"])) == {"dynamodb:GetItem", "dynamodb:Query"}


def test_web_page_is_uploaded_with_a_generated_config(stack: Stack) -> None:
    s3 = stack.moto.client("s3")
    bucket = stack.outputs["site_bucket_name"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert keys == ["app.js", "config.js", "index.html", "logo.svg", "styles/site.css"]
    types = {key: s3.head_object(Bucket=bucket, Key=key)["ContentType"] for key in keys}
    assert types["index.html"] == "text/html; charset=utf-8"
    assert types["styles/site.css"] == "text/css; charset=utf-8"
    assert types["logo.svg"] == "image/svg+xml"
    assert types["app.js"] == "text/javascript; charset=utf-8"
    config = s3.get_object(Bucket=bucket, Key="config.js")["Body"].read().decode()
    prefix = "window.IMGSVC_CONFIG = "
    assert config.startswith(prefix)
    assert json.loads(config[len(prefix) :].rstrip().rstrip(";")) == {
        "apiBaseUrl": stack.outputs["api_url"],
        "cdnBaseUrl": stack.outputs["cdn_url"],
        "maxApiBytes": 4_500_000,  # the stage's limits.max_body_bytes (dev's default)
    }


def test_uploads_expire_after_a_day_and_accept_browser_posts(stack: Stack) -> None:
    s3 = stack.moto.client("s3")
    bucket = stack.outputs["uploads_bucket_name"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    expiring = [r for r in rules if r.get("Expiration", {}).get("Days") == 1]
    assert [r["Filter"].get("Prefix") for r in expiring] == ["uploads/"]
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert cors[0]["AllowedMethods"] == ["POST"]
    assert stack.outputs["cdn_url"] in cors[0]["AllowedOrigins"]


def _leftovers(moto: Moto) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for region in (REGION, REPLICA_REGION, "us-east-1"):
        kms = moto.client("kms", region)
        aws_managed = {
            a["TargetKeyId"]
            for a in kms.list_aliases()["Aliases"]
            if a["AliasName"].startswith("alias/aws/") and "TargetKeyId" in a
        }
        live_keys = [
            k["KeyId"]
            for k in kms.list_keys()["Keys"]
            if k["KeyId"] not in aws_managed
            and kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"
        ]
        apigw = moto.client("apigateway", region)
        lam = moto.client("lambda", region)
        found |= {
            f"{region} buckets": [
                b["Name"] for b in moto.client("s3", region).list_buckets()["Buckets"]
            ],
            f"{region} tables": moto.client("dynamodb", region).list_tables()["TableNames"],
            f"{region} queues": moto.client("sqs", region).list_queues().get("QueueUrls", []),
            f"{region} topics": [
                t["TopicArn"] for t in moto.client("sns", region).list_topics()["Topics"]
            ],
            f"{region} functions": [f["FunctionName"] for f in lam.list_functions()["Functions"]],
            f"{region} layers": [x["LayerName"] for x in lam.list_layers()["Layers"]],
            f"{region} event source mappings": [
                m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]
            ],
            f"{region} APIs": [a["id"] for a in apigw.get_rest_apis()["items"]],
            f"{region} API keys": [k["id"] for k in apigw.get_api_keys()["items"]],
            f"{region} usage plans": [p["id"] for p in apigw.get_usage_plans()["items"]],
            f"{region} log groups": [
                g["logGroupName"]
                for g in moto.client("logs", region).describe_log_groups()["logGroups"]
            ],
            f"{region} alarms": [
                a["AlarmName"]
                for a in moto.client("cloudwatch", region).describe_alarms()["MetricAlarms"]
            ],
            f"{region} KMS keys": live_keys,
        }
    iam = moto.client("iam")
    cloudfront = moto.client("cloudfront", "us-east-1")
    found |= {
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "policies": [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]],
        "distributions": [
            d["Id"] for d in cloudfront.list_distributions()["DistributionList"].get("Items", [])
        ],
        "origin access controls": [
            o["Id"]
            for o in cloudfront.list_origin_access_controls()["OriginAccessControlList"].get(
                "Items", []
            )
        ],
        "cache policies": [
            p["CachePolicy"]["Id"]
            for p in cloudfront.list_cache_policies()["CachePolicyList"].get("Items", [])
        ],
        "response headers policies": [
            p["ResponseHeadersPolicy"]["Id"]
            for p in cloudfront.list_response_headers_policies()["ResponseHeadersPolicyList"].get(
                "Items", []
            )
        ],
        "cloudfront functions": [
            f["Name"] for f in cloudfront.list_functions()["FunctionList"].get("Items", [])
        ],
    }
    return {kind: names for kind, names in found.items() if names}


@pytest.mark.destroys_dev_stack
def test_destroy_leaves_nothing_behind(stack: Stack) -> None:
    assert _leftovers(stack.moto), "the stack should exist before destroy"
    stack.tf("destroy", "-auto-approve", "-input=false", *stack.plan_args())
    stack.destroyed = True
    assert _leftovers(stack.moto) == {}


def test_missing_artifacts_fail_the_plan_asking_for_make_build(
    tmp_path: Path, terraform: Terraform, moto: Moto
) -> None:
    directory = prepare_copy(tmp_path, moto, web=None, dist=None)
    (tmp_path / "dist").mkdir()  # built nothing
    terraform.run(directory, "init", "-input=false", "-no-color", "-lockfile=readonly")
    result = terraform.run(directory, "plan", "-input=false", "-no-color", check=False)
    assert result.returncode == 1
    assert "run `make build` first" in result.stderr
    # One clear message, not a cascade of file() errors.
    assert result.stderr.count("Error:") == 1, result.stderr


def test_no_web_page_is_deployed_without_index_html(
    tmp_path: Path, terraform: Terraform, moto: Moto, artifacts: Path
) -> None:
    directory = prepare_copy(tmp_path, moto, web={"notes.txt": "no page yet\n"}, dist=artifacts)
    terraform.run(directory, "init", "-input=false", "-no-color", "-lockfile=readonly")
    terraform.run(directory, "plan", "-input=false", "-no-color", "-out=tfplan")
    plan = json.loads(terraform.run(directory, "show", "-json", "tfplan").stdout)
    planned = [r["address"] for r in plan["resource_changes"]]
    assert any(a.startswith("module.stack.module.cdn.") for a in planned), "incomplete plan"
    assert not [a for a in planned if a.startswith("module.stack.aws_s3_object.")], planned

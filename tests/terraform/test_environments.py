"""One composition for every stage: environments/stack holds the service, each stage root
(environments/dev, environments/prod) only what is per stage, and state from before the split
still finds its resources. What a stage sets reaches the resources: plans of the stage roots
against moto (never applied), read as JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from imgsvc import effects
from tests.terraform import hcl
from tests.terraform.against_moto import Moto, moto_server, provider_override
from tests.terraform.tf import ENVIRONMENTS, STACK, Terraform, copy_infra, stage_dirs

STAGES = [p.name for p in stage_dirs()]
# A stage root holds these Terraform files and nothing else: the composition is the stack's.
STAGE_FILES = {
    "versions.tf",
    "providers.tf",
    "main.tf",
    "variables.tf",
    "outputs.tf",
    "moved.tf",
}

# The top-level module calls and resources of a stage root before environments/stack existed
# (commit cf91594); moved.tf must take each of them into the stack.
OLD_MODULE_CALLS = [
    "originals",
    "renditions",
    "uploads",
    "table",
    "cdn",
    "api",
    "effects_fanout",
    "uploads_pipeline",
    "resize",
    "api_function",
    "uploads_function",
]
OLD_RESOURCES = [
    "aws_lambda_layer_version.dependencies",
    "aws_s3_object.web",
    "aws_s3_object.web_config",
]


def _text(directory: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(directory.glob("*.tf")))


def _stack_call(stage: str) -> hcl.Block:
    (call,) = hcl.read_blocks(ENVIRONMENTS / stage, "module")
    return call


def _moves(stage: str) -> dict[str, str]:
    blocks = hcl.read_blocks(ENVIRONMENTS / stage, "moved")
    return {m.attributes["from"]: m.attributes["to"] for m in blocks}


def test_there_are_dev_and_prod() -> None:
    assert {"dev", "prod"} <= set(STAGES)


def test_stage_roots_hold_only_what_is_per_stage() -> None:
    for stage in STAGES:
        directory = ENVIRONMENTS / stage
        assert {p.name for p in directory.glob("*.tf")} == STAGE_FILES, stage
        text = _text(directory)
        # No resource or data source of its own: everything is in the stack.
        assert not re.search(r'^(resource|data)\s+"', text, re.M), stage
        assert re.search(r'^  backend "s3" \{\}$', text, re.M), f"{stage}: partial S3 backend"
        assert "use_lockfile" in (directory / "backend.hcl.example").read_text()
        assert not list(directory.glob("*.tfvars")), f"{stage}: settings live in main.tf"


def test_each_stage_calls_the_stack_once_with_both_providers() -> None:
    for stage in STAGES:
        call = _stack_call(stage)
        assert call.name == "stack"
        assert hcl.string_literal(call.attributes["source"]) == "../stack"
        providers = " ".join(call.attributes["providers"].split())
        assert providers == "{ aws = aws aws.replica = aws.replica }", stage
        assert call.attributes["region"] == "local.region"
        assert call.attributes["replica_region"] == "local.replica_region"
        providers_tf = (ENVIRONMENTS / stage / "providers.tf").read_text()
        assert providers_tf.count("region = local.region") == 1, stage
        assert providers_tf.count("region = local.replica_region") == 1, stage
        main = (ENVIRONMENTS / stage / "main.tf").read_text()
        assert re.search(rf'^  name_prefix\s*=\s*"imgsvc-{stage}"$', main, re.M), stage


def test_every_stage_argument_is_a_stack_variable() -> None:
    variables = {v.name for v in hcl.read_blocks(STACK, "variable")}
    required = {v.name for v in hcl.read_blocks(STACK, "variable") if not v.has_default}
    for stage in STAGES:
        arguments = set(_stack_call(stage).attributes) - {"source", "providers"}
        assert arguments <= variables, f"{stage}: not stack variables: {arguments - variables}"
        assert required <= arguments, f"{stage}: missing {required - arguments}"
        # The root's own variables (per run, not per stage) are handed on unchanged.
        for variable in hcl.read_blocks(ENVIRONMENTS / stage, "variable"):
            assert _stack_call(stage).attributes[variable.name] == f"var.{variable.name}"


def test_prod_keeps_its_data() -> None:
    call = _stack_call("prod")
    assert call.attributes.get("deletion_protection_enabled", "true") == "true"
    assert call.attributes.get("force_destroy", "false") == "false"


def test_stage_outputs_are_the_stacks() -> None:
    stack = {o.name: o for o in hcl.read_blocks(STACK, "output")}
    for stage in STAGES:
        outputs = {o.name: o for o in hcl.read_blocks(ENVIRONMENTS / stage, "output")}
        assert sorted(outputs) == sorted(stack), stage
        for name, output in outputs.items():
            assert output.attributes["value"] == f"module.stack.{name}"
            assert output.description == stack[name].description, f"{stage}: {name}"
            assert output.attributes.get("sensitive") == stack[name].attributes.get("sensitive")


def test_moved_blocks_take_every_old_address_into_the_stack() -> None:
    old = [f"module.{name}" for name in OLD_MODULE_CALLS] + OLD_RESOURCES
    old += [f'module.effects["{effect}"]' for effect in effects.EFFECTS]
    for stage in STAGES:
        moves = _moves(stage)
        assert sorted(moves) == sorted(old), stage
        for source, target in moves.items():
            assert target.startswith("module.stack."), target
            name = source.removeprefix("module.")
            if name in ("api_function", "uploads_function"):
                assert target == f'module.stack.module.function["{name.removesuffix("_function")}"]'
            elif name.startswith("effects["):
                effect = re.findall(r'"([^"]+)"', name)[0]
                assert target == f'module.stack.module.function["effect-{effect}"]'
            else:
                assert target == f"module.stack.{source}"
    assert _moves("dev") == _moves("prod")


def test_moved_targets_exist_in_the_stack() -> None:
    text = _text(STACK)
    calls = set(re.findall(r'^module "([^"]+)"', text, re.M))
    resources = {f"{t}.{n}" for t, n in re.findall(r'^resource "([^"]+)" "([^"]+)"', text, re.M)}
    functions = (STACK / "functions.tf").read_text()
    keys = set(re.findall(r"^      ([a-z]+) = \{$", functions, re.M))
    assert '"effect-${effect}" =>' in functions, "effects are keyed effect-<name>"
    for stage in STAGES:
        for target in _moves(stage).values():
            inner = target.removeprefix("module.stack.")
            call = re.fullmatch(r'module\.([a-z_]+)(?:\["([^"]+)"\])?', inner)
            if call is None:
                assert inner in resources, target
                continue
            assert call[1] in calls, target
            if call[2] is not None:
                assert call[1] == "function"
                assert call[2] in keys or call[2].removeprefix("effect-") in effects.EFFECTS


def test_gif_effects_are_the_ones_the_lambda_code_registers() -> None:
    variables = {v.name: v for v in hcl.read_blocks(STACK, "variable")}
    default = re.findall(r'"([a-z0-9-]+)"', variables["gif_effects"].attributes["default"])
    assert tuple(default) == effects.DEFAULT_EFFECTS
    text = (STACK / "variables.tf").read_text()
    allowed = re.search(r"contains\(\[([^\]]*)\], e\)", text)
    assert allowed, "gif_effects validation lists the allowed effects"
    assert set(re.findall(r'"([a-z0-9-]+)"', allowed[1])) == set(effects.EFFECTS)


def test_lock_files_pin_the_same_provider_with_checksums_for_every_platform() -> None:
    locks = {stage: (ENVIRONMENTS / stage / ".terraform.lock.hcl").read_text() for stage in STAGES}
    for lock in locks.values():
        assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
        assert re.search(r'version\s+=\s+"5\.\d+\.\d+"', lock)
        assert len(re.findall(r'"h1:[A-Za-z0-9+/]{43}="', lock)) >= 1
        # zh: hashes are the registry's checksums of each platform's zip: any OS can init.
        assert len(re.findall(r'"zh:[0-9a-f]{64}"', lock)) >= 10
    # Both stages run the one stack: with one provider version.
    assert len(set(locks.values())) == 1


def test_every_environment_variable_set_is_one_the_code_reads() -> None:
    from imgsvc import config

    known = {
        value for name, value in vars(config).items() if name.isupper() and isinstance(value, str)
    }
    names = set(re.findall(r"^\s*((?:IMGSVC|POWERTOOLS)_[A-Z_]+)\s*=", _text(STACK), re.M))
    assert names, "the stack sets the functions' variables"
    assert names <= known, f"not in lambda_src/imgsvc/config.py: {sorted(names - known)}"


# ---------------------------------------------------------------------------------------------
# Plans of the stage roots against moto. Each variant is a throwaway copy of the repository's
# Terraform, planned once (all in parallel) with the stack tests' stand-in Lambda artifacts.

ARTIFACTS = "../stack/tests/fixtures/dist"  # from a stage root

# What one deployment of a stage sets on top of the stage's settings.
DEPLOYMENT_VALUES: dict[str, Any] = {
    "alarm_topic_arn": "arn:aws:sns:eu-west-1:123456789012:imgsvc-dev-alarms",
    "limits": {
        "max_pixels": 20_000_000,
        "max_body_bytes": 3_000_000,
        "max_upload_bytes": 100 * 1024 * 1024,
        "upload_url_expires": 900,
    },
    "cdn_domain": {
        "aliases": ["images-dev.example.com", "img-dev.example.com"],
        "acm_certificate_arn": (
            "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
        ),
        "route53_zone_id": "Z0123456789ABCDEFGHIJ",
    },
    "cdn_web_acl_arn": (
        "arn:aws:wafv2:us-east-1:123456789012:global/webacl/imgsvc/"
        "0123abcd-0123-abcd-0123-0123456789ab"
    ),
    "cdn_access_logs": {"bucket_domain_name": "imgsvc-logs.s3.amazonaws.com"},
}

# variant -> (stage, extra arguments of its module "stack" call, set in an override file).
PLAN_VARIANTS: dict[str, tuple[str, Mapping[str, Any]]] = {
    "dev": ("dev", {}),
    "dev-with-deployment-values": ("dev", DEPLOYMENT_VALUES),
}


@dataclass(frozen=True)
class Plan:
    """``terraform show -json`` of a saved plan, with the lookups the tests need."""

    document: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Planned values (``after``) of every resource of a type, by address."""
        return {
            change["address"]: change["change"]["after"]
            for change in self.document["resource_changes"]
            if change["type"] == resource_type and change["mode"] == "managed"
        }

    def function_environments(self) -> dict[str, dict[str, str]]:
        """What the stack passes as each function's environment variables (the values known at
        plan time), by function name: the probe outputs' (FUNCTION_ENVIRONMENTS_PROBE)."""
        change = self.document["output_changes"]["test_function_environments"]
        return {name: dict(variables) for name, variables in change["after"].items()}


# The AWS provider plans a function's whole environment as unknown when one of its values is
# (the api function's CDN distribution id), so the plans' Lambda resources cannot show it. The
# throwaway copies add outputs instead (file name -> content): the function module's input, as
# the stack hands it, up to the stage root.
FUNCTION_ENVIRONMENTS_PROBE = {
    "modules/function/zz_test_probe.tf": """
output "test_environment_variables" {
  value = var.environment_variables
}
""",
    "environments/stack/zz_test_probe.tf": """
output "test_function_environments" {
  value = merge(
    { for f in module.function : f.function_name => f.test_environment_variables },
    { (module.resize.function_name) = module.resize.test_environment_variables },
  )
}
""",
    "environments/{stage}/zz_test_probe.tf": """
output "test_function_environments" {
  value = module.stack.test_function_environments
}
""",
}


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    with moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def plans(
    tmp_path_factory: pytest.TempPathFactory, terraform: Terraform, moto: Moto
) -> Mapping[str, Plan]:
    def make(variant: str) -> Plan:
        stage, stack_arguments = PLAN_VARIANTS[variant]
        root = copy_infra(tmp_path_factory.mktemp(f"plan-{variant}"))
        directory = root / "environments" / stage
        (directory / "zz_moto_override.tf").write_text(provider_override(moto.endpoint))
        for path, text in FUNCTION_ENVIRONMENTS_PROBE.items():
            (root / path.format(stage=stage)).write_text(text.lstrip())
        if stack_arguments:
            # An override file merges into the root's own module "stack" call (JSON values are
            # HCL expressions too).
            arguments = "".join(f"  {k} = {json.dumps(v)}\n" for k, v in stack_arguments.items())
            (directory / "zz_stack_override.tf").write_text(f'module "stack" {{\n{arguments}}}\n')
        terraform.run(directory, "init", "-input=false", "-no-color", "-lockfile=readonly")
        artifacts = f"-var=artifacts_dir={ARTIFACTS}"
        terraform.run(directory, "plan", "-input=false", "-no-color", "-out=tfplan", artifacts)
        shown = terraform.run(directory, "show", "-json", "tfplan")
        return Plan(json.loads(shown.stdout))

    with ThreadPoolExecutor(max_workers=len(PLAN_VARIANTS)) as pool:
        return dict(zip(PLAN_VARIANTS, pool.map(make, PLAN_VARIANTS), strict=True))


@pytest.mark.terraform
def test_the_alarm_topic_is_notified_by_every_alarm_of_the_stage(plans: Mapping[str, Plan]) -> None:
    topic = DEPLOYMENT_VALUES["alarm_topic_arn"]
    alarms = plans["dev-with-deployment-values"].resources("aws_cloudwatch_metric_alarm")
    # Both fan-outs: the GIF effects' queues and the direct uploads' queue.
    for call in ("effects_fanout", "uploads_pipeline"):
        assert any(a.startswith(f"module.stack.module.{call}.") for a in alarms), call
    for address, alarm in alarms.items():
        assert alarm["alarm_actions"] == [topic], address
        assert alarm["ok_actions"] == [topic], address
    # Without a topic the alarms still exist, notifying nobody (the stack's default).
    unset = plans["dev"].resources("aws_cloudwatch_metric_alarm")
    assert sorted(unset) == sorted(alarms)
    assert all(not a["alarm_actions"] and not a["ok_actions"] for a in unset.values())


# Which of the service's limits each function enforces (lambda_src/imgsvc: handlers/api.py and
# service.py for images through the API, uploads.py for direct uploads, resizing.py, gifs.py).
LIMITS_READ_BY = {
    "api": {"max_pixels", "max_body_bytes", "max_upload_bytes", "upload_url_expires"},
    "uploads": {"max_pixels", "max_upload_bytes"},
    "resize": {"max_pixels"},
    **{f"effect-{effect}": {"max_pixels"} for effect in effects.DEFAULT_EFFECTS},
}


@pytest.mark.terraform
def test_limits_reach_every_function_that_enforces_them(plans: Mapping[str, Plan]) -> None:
    from imgsvc import config

    names = {
        "max_pixels": config.MAX_PIXELS,
        "max_body_bytes": config.MAX_BODY_BYTES,
        "max_upload_bytes": config.MAX_UPLOAD_BYTES,
        "upload_url_expires": config.UPLOAD_URL_EXPIRES,
    }
    # Unset, the stack's defaults are the code's own.
    defaults = {limit: getattr(config.Config(), limit) for limit in names}
    for variant, limits in [
        ("dev", defaults),
        ("dev-with-deployment-values", DEPLOYMENT_VALUES["limits"]),
    ]:
        environments = plans[variant].function_environments()
        assert sorted(environments) == sorted(f"imgsvc-dev-{role}" for role in LIMITS_READ_BY)
        for role, enforced in LIMITS_READ_BY.items():
            environment = environments[f"imgsvc-dev-{role}"]
            for limit in enforced:
                assert environment.get(names[limit]) == str(limits[limit]), (variant, role, limit)


@pytest.mark.terraform
def test_cdn_domain_web_acl_and_access_logs_reach_the_distribution(
    plans: Mapping[str, Plan],
) -> None:
    plan = plans["dev-with-deployment-values"]
    domain = DEPLOYMENT_VALUES["cdn_domain"]
    (distribution,) = plan.resources("aws_cloudfront_distribution").values()
    assert sorted(distribution["aliases"] or []) == sorted(domain["aliases"])
    (certificate,) = distribution["viewer_certificate"]
    assert certificate["acm_certificate_arn"] == domain["acm_certificate_arn"]
    assert not certificate["cloudfront_default_certificate"]
    assert certificate["minimum_protocol_version"] == "TLSv1.2_2021"
    assert distribution["web_acl_id"] == DEPLOYMENT_VALUES["cdn_web_acl_arn"]
    (logging,) = distribution["logging_config"]
    assert logging["bucket"] == DEPLOYMENT_VALUES["cdn_access_logs"]["bucket_domain_name"]
    # Without a prefix of its own, the stage's: stages can share the bucket.
    assert logging["prefix"] == "cloudfront/imgsvc-dev/"
    records = plan.resources("aws_route53_record").values()
    assert sorted((r["name"], r["type"], r["zone_id"]) for r in records) == sorted(
        (alias, kind, domain["route53_zone_id"])
        for alias in domain["aliases"]
        for kind in ("A", "AAAA")
    )
    # The first name is the CDN's URL, for the API and the web page's origin alike.
    api = plan.function_environments()["imgsvc-dev-api"]
    assert api["IMGSVC_CDN_BASE_URL"] == f"https://{domain['aliases'][0]}"
    assert api["IMGSVC_CORS_ORIGINS"].split(",")[0] == f"https://{domain['aliases'][0]}"

    # Unset: the CloudFront domain and certificate, no web ACL, no access logs.
    (distribution,) = plans["dev"].resources("aws_cloudfront_distribution").values()
    assert not distribution["aliases"]
    assert distribution["viewer_certificate"][0]["cloudfront_default_certificate"]
    assert distribution["web_acl_id"] is None
    assert not distribution["logging_config"]
    assert not plans["dev"].resources("aws_route53_record")


@pytest.mark.terraform
def test_stack_tests_pass(terraform: Terraform, tmp_path: Path) -> None:
    # environments/stack/tests: the stack's validations, against mocked providers.
    directory = copy_infra(tmp_path) / "environments" / "stack"
    terraform.init(directory)
    result = terraform.run(directory, "test", "-no-color", check=False, timeout=1200)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert " 0 passed" not in result.stdout, result.stdout

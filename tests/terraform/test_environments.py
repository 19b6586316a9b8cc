"""One composition for every stage: environments/stack holds the service, each stage root
(environments/dev, environments/prod) only what is per stage, and state from before the split
still finds its resources. What a stage sets reaches the resources: plans of the stage roots
against moto (never applied), read as JSON."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from imgsvc import effects
from tests.terraform import hcl
from tests.terraform.against_moto import Moto, moto_server, provider_override
from tests.terraform.tf import ENVIRONMENTS, ROOT, STACK, Terraform, copy_infra, stage_dirs

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
        assert (directory / "terraform.tfvars.example").is_file(), stage


def test_each_stage_calls_the_stack_once_with_its_providers() -> None:
    for stage in STAGES:
        call = _stack_call(stage)
        assert call.name == "stack"
        assert hcl.string_literal(call.attributes["source"]) == "../stack"
        providers = " ".join(call.attributes["providers"].split())
        assert providers == (
            "{ aws = aws aws.replica = aws.replica aws.us_east_1 = aws.us_east_1 }"
        ), stage
        assert call.attributes["region"] == "local.region"
        assert call.attributes["replica_region"] == "local.replica_region"
        providers_tf = (ENVIRONMENTS / stage / "providers.tf").read_text()
        assert providers_tf.count("region = local.region") == 1, stage
        assert providers_tf.count("region = local.replica_region") == 1, stage
        # CloudFront's metrics, so the CDN's alarm, are in us-east-1 whatever the stage's region.
        assert providers_tf.count('region = "us-east-1"') == 1, stage
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


# Set per run (-var) and per deployment (<stage>.tfvars): the stage roots' variables.
PER_RUN = {"artifacts_dir", "cdn_wait_for_deployment"}
PER_DEPLOYMENT = {
    "alarm_topic_arn",
    "cdn_alarm_topic_arn",
    "limits",
    "cdn_domain",
    "cdn_web_acl_arn",
    "cdn_access_logs",
}
# Per deployment too, but each stage has a default of its own: the account's shape decides.
ACCOUNT_SETTINGS = {"api_gateway_logging_role_enabled": "true"}


def test_per_deployment_values_are_root_variables_documented_in_the_example() -> None:
    stack = {v.name: v for v in hcl.read_blocks(STACK, "variable")}
    for stage in STAGES:
        variables = {v.name: v for v in hcl.read_blocks(ENVIRONMENTS / stage, "variable")}
        assert set(variables) == PER_RUN | PER_DEPLOYMENT | set(ACCOUNT_SETTINGS), stage
        example = (ENVIRONMENTS / stage / "terraform.tfvars.example").read_text()
        for name, default in ACCOUNT_SETTINGS.items():
            assert variables[name].attributes["default"] == default, (stage, name)
            assert f"{stage}.tfvars" in (variables[name].description or ""), (stage, name)
            assert re.search(rf"^# {name} = ", example, re.M), (stage, name)  # shown, commented
        for name in PER_DEPLOYMENT:
            # Unset, the stack's default applies: the root adds no default of its own.
            assert variables[name].attributes["default"] in ("null", "{}"), (stage, name)
            assert stack[name].attributes["default"] in ("null", "{}"), name
            assert f"{stage}.tfvars" in (variables[name].description or ""), (stage, name)
        assert set(re.findall(r"^([a-z_]+)\s*=", example, re.M)) == PER_DEPLOYMENT, stage
        assert f"Copy to {stage}.tfvars (git-ignored)" in example, stage


def test_stage_tfvars_are_never_committed() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)

    for stage in STAGES:
        for name in (f"{stage}.tfvars", "terraform.tfvars"):
            path = f"environments/{stage}/{name}"
            assert git("check-ignore", "-q", "--no-index", path).returncode == 0, path
        example = f"environments/{stage}/terraform.tfvars.example"
        assert git("check-ignore", "-q", "--no-index", example).returncode == 1, example
    assert git("ls-files", "environments/*.tfvars").stdout == ""


def _make_dry_run(directory: Path, target: str, stage: str) -> list[str]:
    """The terraform command lines `make -n <target> ENV=<stage>` would run in ``directory``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    result = subprocess.run(
        ["make", "-n", target, f"ENV={stage}"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if f"-chdir=environments/{stage} " in line]


def test_make_passes_the_stage_tfvars_when_there_is_one(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    copy_infra(tmp_path)
    for stage in STAGES:
        directory = tmp_path / "environments" / stage
        # make checks the stage's backend config first (before building anything).
        shutil.copy(directory / "backend.hcl.example", directory / "backend.hcl")
        tfvars = directory / f"{stage}.tfvars"
        tfvars.unlink(missing_ok=True)  # a developer's own, copied from the checkout
        for target in ("plan", "destroy"):
            lines = _make_dry_run(tmp_path, target, stage)
            assert any(f" {target} " in line for line in lines), lines
            assert not any("-var-file" in line for line in lines), lines
        tfvars.write_text("alarm_topic_arn = null\n")
        for target in ("plan", "destroy"):
            (line,) = [x for x in _make_dry_run(tmp_path, target, stage) if f" {target} " in x]
            assert f" -var-file={stage}.tfvars" in line, line
        # apply applies the saved plan, which holds the variables already (Terraform refuses
        # variables with a saved plan).
        (line,) = [x for x in _make_dry_run(tmp_path, "apply", stage) if " apply " in x]
        assert "-var-file" not in line, line
        assert line.endswith(" tfplan"), line


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
EXAMPLE = "terraform.tfvars.example"

# variant -> (stage, its <stage>.tfvars or None). A stage's committed example is its tfvars:
# the values it documents must plan, and reach the resources.
PLAN_VARIANTS: dict[str, tuple[str, str | None]] = {
    "dev": ("dev", None),
    "dev-example": ("dev", EXAMPLE),
    "prod-example": ("prod", EXAMPLE),
}
WITH_VALUES = ("dev-example", "prod-example")


@dataclass(frozen=True)
class Plan:
    """``terraform show -json`` of a saved plan, with the lookups the tests need."""

    stage: str
    document: dict[str, Any]

    def variables(self) -> dict[str, Any]:
        """The values of the stage root's variables."""
        return {name: v["value"] for name, v in self.document["variables"].items()}

    def resources(self, resource_type: str, part: str = "after") -> dict[str, dict[str, Any]]:
        """Planned values (``after``), or what is known only after apply (``after_unknown``),
        of every resource of a type, by address."""
        return {
            change["address"]: change["change"][part]
            for change in self.document["resource_changes"]
            if change["type"] == resource_type and change["mode"] == "managed"
        }

    def function_environments(self) -> dict[str, dict[str, str]]:
        """What the stack passes as each function's environment variables (the values known at
        plan time), by function name: the probe outputs' (FUNCTION_ENVIRONMENTS_PROBE)."""
        change = self.document["output_changes"]["test_function_environments"]
        return {name: dict(variables) for name, variables in change["after"].items()}

    def gateway_responses(self, part: str = "after") -> Any:
        """The API's x-amazon-apigateway-gateway-responses as the api module puts them into the
        imported document (whose body the plan cannot show: it holds the functions' ARNs)."""
        return self.document["output_changes"]["test_gateway_responses"][part]


# The AWS provider plans a function's whole environment as unknown when one of its values is
# (the api function's CDN distribution id), so the plans' Lambda resources cannot show it. The
# throwaway copies add outputs instead (file name -> content): the function module's input, as
# the stack hands it, up to the stage root. The same goes for the gateway responses the api
# module writes into the imported document (the body is unknown at plan: it holds the functions'
# ARNs).
FUNCTION_ENVIRONMENTS_PROBE = {
    "modules/function/zz_test_probe.tf": """
output "test_environment_variables" {
  value = var.environment_variables
}
""",
    "modules/api/zz_test_probe.tf": """
output "test_gateway_responses" {
  value = local.gateway_responses_extension
}
""",
    "environments/stack/zz_test_probe.tf": """
output "test_function_environments" {
  value = merge(
    { for f in module.function : f.function_name => f.test_environment_variables },
    { (module.resize.function_name) = module.resize.test_environment_variables },
  )
}

output "test_gateway_responses" {
  value = module.api.test_gateway_responses
}
""",
    "environments/{stage}/zz_test_probe.tf": """
output "test_function_environments" {
  value = module.stack.test_function_environments
}

output "test_gateway_responses" {
  value = module.stack.test_gateway_responses
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
        stage, tfvars = PLAN_VARIANTS[variant]
        root = copy_infra(tmp_path_factory.mktemp(f"plan-{variant}"))
        directory = root / "environments" / stage
        (directory / "zz_moto_override.tf").write_text(provider_override(moto.endpoint))
        for path, text in FUNCTION_ENVIRONMENTS_PROBE.items():
            (root / path.format(stage=stage)).write_text(text.lstrip())
        arguments = [f"-var=artifacts_dir={ARTIFACTS}"]
        if tfvars is not None:
            # As `make plan` passes it.
            shutil.copy(directory / tfvars, directory / f"{stage}.tfvars")
            arguments.append(f"-var-file={stage}.tfvars")
        terraform.run(directory, "init", "-input=false", "-no-color", "-lockfile=readonly")
        terraform.run(directory, "plan", "-input=false", "-no-color", "-out=tfplan", *arguments)
        shown = terraform.run(directory, "show", "-json", "tfplan")
        return Plan(stage, json.loads(shown.stdout))

    with ThreadPoolExecutor(max_workers=len(PLAN_VARIANTS)) as pool:
        return dict(zip(PLAN_VARIANTS, pool.map(make, PLAN_VARIANTS), strict=True))


@pytest.mark.terraform
def test_the_alarm_topic_is_notified_by_every_alarm_of_the_stage(plans: Mapping[str, Plan]) -> None:
    for variant in WITH_VALUES:
        plan = plans[variant]
        topic = plan.variables()["alarm_topic_arn"]
        assert topic, f"{variant}: the example sets alarm_topic_arn"
        cdn_topic = plan.variables()["cdn_alarm_topic_arn"]
        assert cdn_topic, f"{variant}: the example sets cdn_alarm_topic_arn"
        alarms = plan.resources("aws_cloudwatch_metric_alarm")
        # Both fan-outs (the GIF effects' queues, the direct uploads' queue) and the monitoring.
        for call in ("effects_fanout", "uploads_pipeline", "monitoring"):
            assert any(a.startswith(f"module.stack.module.{call}.") for a in alarms), call
        for address, alarm in alarms.items():
            # The CDN's alarm is in us-east-1 and notifies the topic there.
            expected = cdn_topic if ".cdn_5xx_rate[" in address else topic
            assert alarm["alarm_actions"] == [expected], (variant, address)
            assert alarm["ok_actions"] == [expected], (variant, address)
    # Without a topic the alarms still exist, notifying nobody (the stack's default).
    unset = plans["dev"].resources("aws_cloudwatch_metric_alarm")
    assert sorted(unset) == sorted(plans["dev-example"].resources("aws_cloudwatch_metric_alarm"))
    assert all(not a["alarm_actions"] and not a["ok_actions"] for a in unset.values())


@pytest.mark.terraform
def test_every_stage_has_its_dashboard_and_the_alarms_the_runbooks_name(
    plans: Mapping[str, Plan],
) -> None:
    for variant, plan in plans.items():
        prefix = f"imgsvc-{plan.stage}"
        (dashboard,) = plan.resources("aws_cloudwatch_dashboard").values()
        assert dashboard["dashboard_name"] == prefix, variant
        names = {a["alarm_name"] for a in plan.resources("aws_cloudwatch_metric_alarm").values()}
        queues = [f"originals-{effect}" for effect in effects.DEFAULT_EFFECTS] + ["uploads-uploads"]
        expected = {
            f"{prefix}-api-fn-errors",
            f"{prefix}-api-fn-throttles",
            f"{prefix}-resize-fn-errors",
            f"{prefix}-resize-fn-throttles",
            f"{prefix}-api-5xx-rate",
            f"{prefix}-cdn-5xx-rate",
            *(f"{prefix}-{queue}-oldest-message-age" for queue in queues),
        }
        assert expected <= names, (variant, sorted(expected - names))
        # The fan-outs' own alarms stay (DLQ not empty, consumer errors and throttles).
        assert f"{prefix}-uploads-uploads-dlq-not-empty" in names, variant
        # Each queue alarm watches the queue it is named after, which the plan creates.
        queue_names = {q["name"] for q in plan.resources("aws_sqs_queue").values()}
        for alarm in plan.resources("aws_cloudwatch_metric_alarm").values():
            if alarm["alarm_name"].endswith("-oldest-message-age"):
                assert alarm["dimensions"]["QueueName"] in queue_names, alarm["alarm_name"]
        # The dashboard searches the metrics the functions publish: same namespace and stage.
        environments = plan.function_environments()
        assert environments, variant
        for variables in environments.values():
            assert variables["IMGSVC_STAGE"] == prefix, variant
            assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "imgsvc", variant
        # CloudFront's additional metrics (cache hit rate, origin latency) are on.
        (subscription,) = plan.resources("aws_cloudfront_monitoring_subscription").values()
        config = subscription["monitoring_subscription"][0]["realtime_metrics_subscription_config"]
        assert config[0]["realtime_metrics_subscription_status"] == "Enabled", variant


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
    # Unset, a limit is the code's own default.
    defaults = {limit: getattr(config.Config(), limit) for limit in names}
    for variant, plan in plans.items():
        given = plan.variables()["limits"]
        limits = {k: defaults[k] if given.get(k) is None else given[k] for k in names}
        environments = plan.function_environments()
        prefix = f"imgsvc-{plan.stage}-"
        assert sorted(environments) == sorted(f"{prefix}{role}" for role in LIMITS_READ_BY)
        for role, enforced in LIMITS_READ_BY.items():
            environment = environments[f"{prefix}{role}"]
            for limit in enforced:
                assert environment.get(names[limit]) == str(limits[limit]), (variant, role, limit)
    # Only a value other than the default tells a limit handed on from one written in the stack.
    for limit in names:
        assert any(
            plans[v].variables()["limits"].get(limit) not in (None, defaults[limit])
            for v in WITH_VALUES
        ), f"an example should set limits.{limit} to something else than its default"


@pytest.mark.terraform
def test_the_api_gives_up_on_pending_only_after_each_queues_whole_retry_window(
    plans: Mapping[str, Plan],
) -> None:
    """GET /images/{id}/gifs and /uploads/{id} report a pending status as given up once its
    queue can no longer deliver (lambda_src/imgsvc/gifs.py, upload_tickets.py): never sooner
    than every receive of the queue, each up to its visibility timeout, plus the delivery."""
    from imgsvc import config

    for variant, plan in plans.items():
        environments = plan.function_environments()
        prefix = f"imgsvc-{plan.stage}-"
        api = environments[f"{prefix}api"]
        for call, consumer, name in (
            ("effects_fanout", "effect-zoom", config.GIF_RETRY_WINDOW),
            ("uploads_pipeline", "uploads", config.UPLOAD_RETRY_WINDOW),
        ):
            # The redrive policy is known only after apply (it holds the DLQ's ARN); the
            # consumer reads the same maxReceiveCount from its environment.
            receives = int(environments[f"{prefix}{consumer}"][config.MAX_RECEIVE_COUNT])
            timeouts = [
                queue["visibility_timeout_seconds"]
                for address, queue in plan.resources("aws_sqs_queue").items()
                if f"module.{call}.aws_sqs_queue.this[" in address
            ]
            assert timeouts, (variant, call)
            assert int(api[name]) >= receives * max(timeouts) + 900, (variant, name)


@pytest.mark.terraform
def test_cdn_domain_web_acl_and_access_logs_reach_the_distribution(
    plans: Mapping[str, Plan],
) -> None:
    for variant in WITH_VALUES:
        plan = plans[variant]
        values = plan.variables()
        domain = values["cdn_domain"]
        for name in ("cdn_domain", "cdn_web_acl_arn", "cdn_access_logs"):
            assert values[name], f"{variant}: the example sets {name}"
        (distribution,) = plan.resources("aws_cloudfront_distribution").values()
        assert sorted(distribution["aliases"] or []) == sorted(domain["aliases"])
        (certificate,) = distribution["viewer_certificate"]
        assert certificate["acm_certificate_arn"] == domain["acm_certificate_arn"]
        assert not certificate["cloudfront_default_certificate"]
        assert certificate["minimum_protocol_version"] == "TLSv1.2_2021"
        assert distribution["web_acl_id"] == values["cdn_web_acl_arn"]
        (logging,) = distribution["logging_config"]
        assert logging["bucket"] == values["cdn_access_logs"]["bucket_domain_name"]
        # Without a prefix of its own, the stage's: stages can share the bucket.
        prefix = values["cdn_access_logs"].get("prefix") or f"cloudfront/imgsvc-{plan.stage}/"
        assert logging["prefix"] == prefix
        records = plan.resources("aws_route53_record").values()
        assert sorted((r["name"], r["type"], r["zone_id"]) for r in records) == sorted(
            (alias, kind, domain["route53_zone_id"])
            for alias in domain["aliases"]
            for kind in ("A", "AAAA")
        )
        # The first name is the CDN's URL, for the API and the web page's origin alike.
        api = plan.function_environments()[f"imgsvc-{plan.stage}-api"]
        assert api["IMGSVC_CDN_BASE_URL"] == f"https://{domain['aliases'][0]}"
        assert api["IMGSVC_CORS_ORIGINS"].split(",")[0] == f"https://{domain['aliases'][0]}"

    # Unset: the CloudFront domain and certificate, no web ACL, no access logs.
    (distribution,) = plans["dev"].resources("aws_cloudfront_distribution").values()
    assert not distribution["aliases"]
    assert distribution["viewer_certificate"][0]["cloudfront_default_certificate"]
    assert distribution["web_acl_id"] is None
    assert not distribution["logging_config"]
    assert not plans["dev"].resources("aws_route53_record")


ALLOW_ORIGIN = "gatewayresponse.header.Access-Control-Allow-Origin"


@pytest.mark.terraform
def test_each_stage_sets_up_api_gateway_logging_on_its_own(plans: Mapping[str, Plan]) -> None:
    """A stage in its own account applies alone, in any order: neither relies on the other's
    account setting (dev.tfvars turns dev's off where the two share an account)."""
    for variant in ("dev", "prod-example"):
        plan = plans[variant]
        assert plan.variables()["api_gateway_logging_role_enabled"] is True, variant
        accounts = plan.resources("aws_api_gateway_account")
        assert len(accounts) == 1, (variant, sorted(accounts))
        stages = plan.resources("aws_api_gateway_stage")
        assert all(stage["access_log_settings"] for stage in stages.values()), variant


@pytest.mark.terraform
def test_api_gateway_errors_let_the_page_on_the_cdn_read_them(plans: Mapping[str, Plan]) -> None:
    # API Gateway's own 403 (no key), 413, 429, ... need Access-Control-Allow-Origin, or the web
    # page served by the CDN cannot read them. dev allows two more origins (a local page), and
    # a gateway response has room for one: the CDN's, always. They are in the imported document
    # (an overwrite import resets gateway responses managed as resources of their own).
    for variant in WITH_VALUES:
        plan = plans[variant]
        assert not plan.resources("aws_api_gateway_gateway_response"), variant
        cdn_url = f"https://{plan.variables()['cdn_domain']['aliases'][0]}"
        responses = plan.gateway_responses()
        assert len(responses) >= 5, variant
        for response_type, response in responses.items():
            assert response["responseParameters"] == {ALLOW_ORIGIN: f"'{cdn_url}'"}, response_type
    dev_api = plans["dev-example"].function_environments()["imgsvc-dev-api"]
    assert len(dev_api["IMGSVC_CORS_ORIGINS"].split(",")) > 1, "dev allows more than the CDN"
    # Without a domain of its own, the CDN's URL is known after apply only.
    unknown = plans["dev"].gateway_responses("after_unknown")
    assert unknown, "the API has gateway responses"
    for response_type, after_unknown in unknown.items():
        assert after_unknown["responseParameters"] == {ALLOW_ORIGIN: True}, response_type


@pytest.mark.terraform
def test_runaway_protection_reaches_the_functions(plans: Mapping[str, Plan]) -> None:
    # docs/cost-and-scale.md: prod caps (and reserves) resize at 200, dev reserves nothing (a
    # new account's limit may be too low); every queue's event source runs at most 20.
    for variant, plan in plans.items():
        functions = {f["function_name"]: f for f in plan.resources("aws_lambda_function").values()}
        resize = functions[f"imgsvc-{plan.stage}-resize"]["reserved_concurrent_executions"]
        assert resize == (200 if plan.stage == "prod" else -1), variant
        mappings = plan.resources("aws_lambda_event_source_mapping").values()
        assert len(mappings) == 1 + len(effects.DEFAULT_EFFECTS), variant
        for mapping in mappings:
            assert [c["maximum_concurrency"] for c in mapping["scaling_config"]] == [20], variant
        # Origin Shield is off by default in both stages (it costs more than it saves here).
        for distribution in plan.resources("aws_cloudfront_distribution").values():
            assert all(not o["origin_shield"] for o in distribution["origin"]), variant


@pytest.mark.terraform
def test_stack_tests_pass(terraform: Terraform, tmp_path: Path) -> None:
    # environments/stack/tests: the stack's validations, against mocked providers.
    directory = copy_infra(tmp_path) / "environments" / "stack"
    terraform.init(directory)
    result = terraform.run(directory, "test", "-no-color", check=False, timeout=1200)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert " 0 passed" not in result.stdout, result.stdout

"""The rehearsal: the applied dev stack, run as AWS would run it, with moto enforcing IAM.

After `terraform apply` of environments/dev to moto (the apply test_dev_apply checks, shared:
conftest.py ``applied_dev``), each function runs from the built artifacts in its own process,
with the applied configuration's environment and its own role's credentials
(tests/terraform/rehearsal.py). The real event chain is driven end to end:

1. an API Gateway REST proxy event (binary body, base64) makes the api function store an original;
2. S3 notifies SNS, SNS each effect's SQS queue; each effect function gets its queue's batch and
   stores its GIF, and the api function reports the GIFs ready;
3. ``POST /uploads`` gives a presigned form; the browser's POST stores the file, S3 notifies the
   uploads queue, the uploads function makes the image; ``GET /uploads/<id>`` says processed;
4. a CloudFront-shaped function URL event makes the resize function store a rendition.

What moto 5.2.1 checks, as measured for this test (with the fixes in moto_server.py):

- Identity policies of the functions' roles, on every call: S3 objects and buckets, SQS queues,
  and DynamoDB tables (moto checks DynamoDB against "*"; moto_server.py makes it the table's
  ARN), explicit Deny and wildcards included. The presigned POST is checked as its signer's
  s3:PutObject of the key.
- Not checked: conditions (ignored), resource policies (bucket and queue policies never grant:
  here the identity policy alone must), KMS key permissions (the stack's buckets use S3-managed
  keys), S3's 403 for a missing key without s3:ListBucket (moto answers 404 either way), SNS
  (the functions do not call it; moto would check it against "*"), and a presigned form's
  policy and signature.
- Not run here: CloudFront invalidations (DELETE /images) and the replica fallback.

Every call a function makes is recorded by moto_server.py; the tests assert that each function
called AWS with its own role and was denied nothing, and that removing one needed grant from the
applied policy makes that function fail with AccessDenied.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pytest
import requests

from tests.support import imagegen
from tests.terraform.rehearsal import (
    Invocation,
    Rehearsal,
    enforced,
    origin_event,
    prepare,
    remove_admin,
    rest_event,
)
from tests.terraform.tf import ROOT

if TYPE_CHECKING:
    from tests.terraform.conftest import AppliedDev

pytestmark = [pytest.mark.terraform, pytest.mark.slow, pytest.mark.timeout(1800)]

STAGE = "v1"
EFFECTS = ("zoom", "spin", "hue")


@pytest.fixture(scope="module")
def host_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same build for this machine's Python and CPU (build.py --host): the function zip is
    byte for byte the deployed one, the layer holds the same pinned packages as cp311 wheels."""
    dist = tmp_path_factory.mktemp("dist-host")
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--host", "--dist", str(dist)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return dist


@dataclass
class Outcome:
    """What the event chain did, for the tests to check."""

    invocations: list[Invocation] = field(default_factory=list)
    created: dict[str, Any] = field(default_factory=dict)
    gifs: dict[str, Any] = field(default_factory=dict)
    upload_id: str = ""
    upload_post_status: int = 0
    upload_status: dict[str, Any] = field(default_factory=dict)
    uploaded_image: dict[str, Any] = field(default_factory=dict)
    rendition: dict[str, Any] = field(default_factory=dict)
    rendition_key: str = ""
    decisions: list[dict[str, Any]] = field(default_factory=list)  # moto's, during the chain


@dataclass
class Run:
    rehearsal: Rehearsal
    applied: AppliedDev
    outcome: Outcome


def _api(run: Run, method: str, path: str, resource: str, **kwargs: Any) -> dict[str, Any]:
    outputs = run.applied.stack.outputs
    api_id = outputs["api_url"].split("//")[1].split(".")[0]
    apigw = run.rehearsal.admin_client("apigateway")
    stage_variables = apigw.get_stage(restApiId=api_id, stageName=STAGE).get("variables")
    event = rest_event(
        method,
        path,
        resource=resource,
        stage=STAGE,
        stage_variables=stage_variables,
        api_id=api_id,
        **kwargs,
    )
    invocation = run.rehearsal.invoke("api", event)
    run.outcome.invocations.append(invocation)
    assert invocation.ok, invocation.errors[-4000:]
    return dict(invocation.result)


def _consume(run: Run, key: str, image_id: str) -> Invocation:
    """The function's queue delivers the S3 event of ``image_id``'s object (and any other)."""
    invocation, _ = run.rehearsal.consume(key, containing=image_id)
    run.outcome.invocations.append(invocation)
    assert invocation.ok, invocation.errors[-4000:]
    assert invocation.result == {"batchItemFailures": []}, invocation.logs[-4000:]
    return invocation


@pytest.fixture(scope="module")
def run(
    applied_dev: AppliedDev, host_artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    manifest = json.loads((applied_dev.artifacts / "manifest.json").read_text())
    rehearsal = prepare(
        applied_dev.moto,
        applied_dev.stack.outputs["function_names"],
        task_zip=applied_dev.artifacts / manifest["functions"]["api"]["zip"],
        layer_zip=host_artifacts / f"layer-{_host_arch(host_artifacts)}.zip",
        work=tmp_path_factory.mktemp("rehearsal"),
    )
    try:
        with enforced(rehearsal):
            run = Run(rehearsal, applied_dev, Outcome())
            _drive(run)
            yield run
    finally:
        remove_admin(applied_dev.moto)


def _host_arch(dist: Path) -> str:
    return str(json.loads((dist / "manifest.json").read_text())["arch"])


def _drive(run: Run) -> None:
    out = run.outcome
    # 1. POST /images: the original, as API Gateway sends a binary body.
    created = _api(
        run,
        "POST",
        "/images",
        "/images",
        query={"name": "rehearsal.png"},
        body=imagegen.png(320, 240),
        content_type="image/png",
        binary=True,
    )
    assert created["statusCode"] == 201, created
    out.created = json.loads(created["body"])
    image_id = out.created["id"]

    # 2. S3 -> SNS -> one queue per effect -> the effect function.
    for effect in EFFECTS:
        _consume(run, f"effect-{effect}", image_id)
    gifs = _api(
        run,
        "GET",
        f"/images/{image_id}/gifs",
        "/images/{id}/gifs",
        path_parameters={"id": image_id},
    )
    out.gifs = json.loads(gifs["body"])

    # 3. A direct upload: ticket, the browser's POST to S3, S3 -> SQS -> the uploads function.
    ticket = _api(
        run,
        "POST",
        "/uploads",
        "/uploads",
        body=json.dumps({"name": "upload.png", "content_type": "image/png"}).encode(),
        content_type="application/json",
    )
    assert ticket["statusCode"] == 201, ticket
    form = json.loads(ticket["body"])
    out.upload_id = form["id"]
    endpoint = run.rehearsal.moto.endpoint
    url = _on_moto(form["upload"]["url"], endpoint)
    assert url == f"{endpoint}/{run.applied.stack.outputs['uploads_bucket_name']}", url
    posted = requests.post(
        url,
        data=form["upload"]["fields"],
        files={"file": ("upload.png", imagegen.png(200, 150, seed=2), "image/png")},
        timeout=60,
    )
    out.upload_post_status = posted.status_code
    assert posted.ok, posted.text
    _consume(run, "uploads", out.upload_id)
    status = _api(
        run,
        "GET",
        f"/uploads/{out.upload_id}",
        "/uploads/{id}",
        path_parameters={"id": out.upload_id},
    )
    out.upload_status = json.loads(status["body"])
    image_path = f"/images/{out.upload_id}"
    image = _api(run, "GET", image_path, "/images/{id}", path_parameters={"id": out.upload_id})
    out.uploaded_image = json.loads(image["body"])
    # The uploaded image's original went through the same fan-out.
    for effect in EFFECTS:
        _consume(run, f"effect-{effect}", out.upload_id)

    # 4. CloudFront's origin request for a missing rendition.
    path = f"/r/{image_id}/{out.created['version']}/{_side(run)}x/webp"
    rendition = run.rehearsal.invoke("resize", origin_event(path))
    out.invocations.append(rendition)
    assert rendition.ok, rendition.errors[-4000:]
    out.rendition = dict(rendition.result)
    out.rendition_key = path.removeprefix("/")
    out.decisions = run.rehearsal.decisions()


def _on_moto(url: str, endpoint: str) -> str:
    """The form's URL as moto serves it: moto stands in for every S3 host, path-style."""
    if url.startswith(endpoint):
        return url
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if ".s3." in host or ".s3-" in host:  # virtual-hosted: <bucket>.s3.<region>.amazonaws.com
        return f"{endpoint}/{host.split('.s3')[0]}"
    return f"{endpoint}/{parsed.path.strip('/').split('/')[0]}"


def _side(run: Run, smallest: int = 0) -> int:
    """A rendition side the stage allows (IMGSVC_RENDITION_SIZES, else the default list)."""
    variables = run.rehearsal.functions["resize"].variables
    listed = variables.get("IMGSVC_RENDITION_SIZES", "64,100,128,200,256")
    return sorted(int(side) for side in listed.split(",") if side.strip())[smallest]


def _role_name(run: Run, key: str) -> str:
    return run.rehearsal.functions[key].role_arn.rsplit("/", 1)[1]


def test_functions_run_from_the_built_artifacts_only(run: Run, host_artifacts: Path) -> None:
    deployed = json.loads((run.applied.artifacts / "manifest.json").read_text())
    host = json.loads((host_artifacts / "manifest.json").read_text())
    for name, entry in deployed["functions"].items():
        assert host["functions"][name]["sha256_b64"] == entry["sha256_b64"], name
    lam = run.rehearsal.admin_client("lambda")
    for function in run.rehearsal.functions.values():
        config = lam.get_function_configuration(FunctionName=function.name)
        assert config["CodeSha256"] in {e["sha256_b64"] for e in deployed["functions"].values()}
    roots = (str(run.rehearsal.task_root), str(run.rehearsal.opt))
    for invocation in run.outcome.invocations:
        # Lambda's three entries, then this interpreter's standard library and nothing else.
        assert invocation.sys_path[:3] == [
            str(run.rehearsal.task_root),
            f"{run.rehearsal.opt}/python/lib/python{sys.version_info[0]}.{sys.version_info[1]}"
            "/site-packages",
            f"{run.rehearsal.opt}/python",
        ]
        for entry in invocation.sys_path[3:]:
            assert entry.startswith(sys.base_prefix), entry
            assert "site-packages" not in entry, entry
            assert "dist-packages" not in entry, entry
        for module in ("imgsvc", "boto3", "botocore", "aws_lambda_powertools"):
            location = invocation.modules.get(module) or ""
            assert location.startswith(roots), (module, location)
        assert invocation.modules["imgsvc"].startswith(str(run.rehearsal.task_root))
        assert invocation.modules["boto3"].startswith(str(run.rehearsal.opt))
        # Every module with a file came from the artifacts or the standard library.
        for module, location in invocation.modules.items():
            entry_point = location == str(run.rehearsal.bootstrap)
            if location and not entry_point and not location.startswith(roots):
                assert location.startswith(sys.base_prefix), (module, location)
                assert "-packages" not in location, (module, location)
    pillow = {i.modules.get("PIL") for i in run.outcome.invocations} - {None}
    assert pillow
    assert all(location.startswith(str(run.rehearsal.opt)) for location in pillow if location)


def test_api_stores_the_original_and_its_record(run: Run) -> None:
    created = run.outcome.created
    assert created["version"] == 1
    outputs = run.applied.stack.outputs
    s3 = run.rehearsal.admin_client("s3")
    head = s3.head_object(Bucket=outputs["originals_bucket_name"], Key=f"originals/{created['id']}")
    assert head["ContentType"] == "image/png"
    assert head["Metadata"]["image-id"] == created["id"]
    dynamodb = run.rehearsal.admin_client("dynamodb")
    items = dynamodb.scan(TableName=outputs["table_name"])["Items"]
    assert any(created["id"] in json.dumps(item) for item in items)


def test_every_effect_made_its_gif_from_the_fan_out(run: Run) -> None:
    gifs = run.outcome.gifs
    assert gifs["id"] == run.outcome.created["id"]
    assert {name: entry["status"] for name, entry in gifs["effects"].items()} == {
        effect: "ready" for effect in EFFECTS
    }
    s3 = run.rehearsal.admin_client("s3")
    bucket = run.applied.stack.outputs["renditions_bucket_name"]
    for effect in EFFECTS:
        key = f"gifs/{gifs['id']}/1/{effect}.gif"
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read()[:6] == b"GIF89a"


def test_presigned_upload_is_processed_into_an_image(run: Run) -> None:
    out = run.outcome
    assert out.upload_status == {"id": out.upload_id, "status": "processed"}
    assert out.uploaded_image["id"] == out.upload_id
    assert out.uploaded_image["version"] == 1
    s3 = run.rehearsal.admin_client("s3")
    outputs = run.applied.stack.outputs
    # The uploads function took the file and removed it from the uploads bucket.
    listed = s3.list_objects_v2(Bucket=outputs["uploads_bucket_name"], Prefix="uploads/")
    assert listed.get("KeyCount", 0) == 0
    renditions = outputs["renditions_bucket_name"]
    gifs = s3.list_objects_v2(Bucket=renditions, Prefix=f"gifs/{out.upload_id}/")
    assert sorted(o["Key"].rsplit("/", 1)[1] for o in gifs["Contents"]) == sorted(
        f"{effect}.gif" for effect in EFFECTS
    )


def test_resize_answers_cloudfront_and_stores_the_rendition(run: Run) -> None:
    rendition = run.outcome.rendition
    assert rendition["statusCode"] == 200, rendition
    assert rendition["isBase64Encoded"] is True
    s3 = run.rehearsal.admin_client("s3")
    stored = s3.get_object(
        Bucket=run.applied.stack.outputs["renditions_bucket_name"], Key=run.outcome.rendition_key
    )
    assert stored["ContentType"] == "image/webp"
    assert stored["Body"].read()[8:12] == b"WEBP"


def test_each_function_called_aws_with_its_own_role_and_was_denied_nothing(run: Run) -> None:
    decisions = run.outcome.decisions
    by_role: dict[str, list[dict[str, Any]]] = {}
    for decision in decisions:
        principal = decision["principal"]
        if ":assumed-role/" in principal:
            by_role.setdefault(principal.split("/")[1], []).append(decision)
    for key in run.rehearsal.functions:
        calls = by_role.get(_role_name(run, key), [])
        assert calls, f"{key} made no call that moto authorised: enforcement was not on"
        denied = [d for d in calls if not d["allowed"]]
        assert denied == [], f"{key} was denied: {denied}"
    for invocation in run.outcome.invocations:
        assert "AccessDenied" not in invocation.logs + invocation.errors, invocation.function


def test_a_missing_grant_fails_the_function_with_access_denied(run: Run) -> None:
    # The resize role without s3:PutObject on renditions: it cannot store a new rendition.
    iam = run.rehearsal.admin_client("iam")
    role = _role_name(run, "resize")
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    original = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    mutated = json.loads(json.dumps(original))
    removed = 0
    for statement in mutated["Statement"]:
        actions = statement["Action"]
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Sid") == "Renditions" and "s3:PutObject" in actions:
            statement["Action"] = [a for a in actions if a != "s3:PutObject"]
            removed += 1
    assert removed == 1, "the resize policy no longer has the Renditions statement"
    before = len(run.rehearsal.decisions())
    iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(mutated))
    try:
        image_id = run.outcome.created["id"]
        path = f"/r/{image_id}/1/{_side(run, 1)}x/webp"
        invocation = run.rehearsal.invoke("resize", origin_event(path))
    finally:
        iam.put_role_policy(
            RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(original)
        )
    assert invocation.ok, invocation.errors[-4000:]
    assert invocation.result["statusCode"] == 500
    assert "AccessDenied" in invocation.logs
    denied = [d for d in run.rehearsal.decisions()[before:] if not d["allowed"]]
    renditions = run.applied.stack.outputs["renditions_bucket_name"]
    assert [(d["principal"].split("/")[1], d["action"], d["resource"]) for d in denied] == [
        (role, "s3:PutObject", f"arn:aws:s3:::{renditions}{path}")
    ]

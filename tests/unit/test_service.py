"""The use cases over moto: versions, carry-over, delete, and failures that store nothing."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from imgsvc import aws, service, wiring
from imgsvc.edgecache import EdgeCache
from imgsvc.errors import BadRequest, Conflict, NotFound, UnprocessableImage
from imgsvc.image_requests import ImageUpload
from imgsvc.repository import VersionTaken
from tests.support import imagegen


@pytest.fixture
def deps(moto_aws: dict[str, str]) -> service.Deps:
    return wiring.deps()


def s3_versions(deps: service.Deps, image_id: str) -> list[str]:
    listed = aws.s3().list_object_versions(
        Bucket=deps.originals.bucket, Prefix=f"originals/{image_id}"
    )
    return [v["VersionId"] for v in listed.get("Versions", [])]


def upload(data: bytes | None = None, name: str | None = "a.jpg", **metadata: str) -> ImageUpload:
    return ImageUpload(
        data=data if data is not None else imagegen.jpeg(64, 48),
        name=name,
        metadata=metadata,
        metadata_given=bool(metadata),
    )


def test_create_then_update_makes_versions_with_carried_over_name_and_metadata(
    deps: service.Deps,
) -> None:
    first = service.create_image(deps, upload(author="Ann"))
    assert first.version == 1
    assert first.metadata == {"author": "Ann"}
    second = service.update_image(deps, first.id, upload(imagegen.png(30, 20), name=None))
    assert second.version == 2
    assert second.name == "a.jpg"
    assert second.metadata == {"author": "Ann"}
    assert (second.content_type, second.width, second.height) == ("image/png", 30, 20)
    third = service.update_image(deps, first.id, upload(name="b.jpg", author="Bo"))
    assert (third.version, third.name, third.metadata) == (3, "b.jpg", {"author": "Bo"})
    assert [r.version for r in service.list_versions(deps, first.id)] == [3, 2, 1]
    assert third.image_created_at == first.created_at


def test_create_without_a_name_gets_a_default_name(deps: service.Deps) -> None:
    assert service.create_image(deps, upload(imagegen.png(8, 8), name=None)).name == "image.png"


def test_bad_update_stores_nothing_and_keeps_the_image(deps: service.Deps) -> None:
    first = service.create_image(deps, upload())
    with pytest.raises(UnprocessableImage):
        service.update_image(deps, first.id, upload(imagegen.truncated(imagegen.jpeg())))
    assert service.latest(deps, first.id) == first
    assert s3_versions(deps, first.id) == [first.s3_version_id]


def test_failed_commit_removes_the_uploaded_bytes(
    deps: service.Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = service.create_image(deps, upload())

    def always_taken(record: object) -> None:
        raise VersionTaken("busy")

    monkeypatch.setattr(type(deps.repository), "put_version", lambda self, r: always_taken(r))
    with pytest.raises(Conflict) as caught:
        service.update_image(deps, first.id, upload(imagegen.png()))
    assert caught.value.status == 409
    assert s3_versions(deps, first.id) == [first.s3_version_id]
    assert service.latest(deps, first.id) == first


def test_deleted_image_is_404_everywhere_but_its_bytes_stay(deps: service.Deps) -> None:
    first = service.create_image(deps, upload())
    service.delete_image(deps, first.id)
    for call in (
        lambda: service.latest(deps, first.id),
        lambda: service.list_versions(deps, first.id),
        lambda: service.get_version(deps, first.id, 1),
        lambda: service.content_url(deps, first.id, None),
        lambda: service.update_image(deps, first.id, upload()),
        lambda: service.delete_image(deps, first.id),
    ):
        with pytest.raises(NotFound):
            call()
    stored = aws.s3().get_object(
        Bucket=deps.originals.bucket, Key=first.key, VersionId=first.s3_version_id
    )
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == first.sha256


def test_ids_and_versions_are_validated(deps: service.Deps) -> None:
    for bad in ("nope", "../../etc", "0B5E4F8E-6C55-4D7E-9B1E-2F1A9C3D4E5F", "1" * 36):
        with pytest.raises(BadRequest) as caught:
            service.latest(deps, bad)
        assert caught.value.code == "invalid_id"
    # "²" and the Arabic-Indic one are digits to str.isdigit(), and int() takes the latter.
    for bad_version in ("0", "-1", "abc", "1.5", "9" * 12, "\u00b2", "\u0661", "", " 1"):
        with pytest.raises(BadRequest) as caught:
            service.parse_version(bad_version)
        assert caught.value.code == "invalid_version"
    with pytest.raises(NotFound):
        service.latest(deps, "0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f")


def test_unknown_version_is_404(deps: service.Deps) -> None:
    first = service.create_image(deps, upload())
    with pytest.raises(NotFound) as caught:
        service.get_version(deps, first.id, 7)
    assert caught.value.code == "version_not_found"


def test_ids_are_fresh_uuid4s(deps: service.Deps) -> None:
    ids = {service.create_image(deps, upload()).id for _ in range(3)}
    assert len(ids) == 3
    fixed = replace(deps, new_id=lambda: "0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f")
    assert service.create_image(fixed, upload()).id == "0b5e4f8e-6c55-4d7e-9b1e-2f1a9c3d4e5f"


def test_delete_removes_renditions_and_gifs_of_that_image_only(deps: service.Deps) -> None:
    s3 = aws.s3()
    bucket = deps.config.renditions_bucket
    doomed = service.create_image(deps, upload())
    kept = service.create_image(deps, upload())
    for record in (doomed, kept):
        s3.put_object(Bucket=bucket, Key=f"r/{record.id}/1/256x256/webp", Body=b"r")
        s3.put_object(Bucket=bucket, Key=f"gifs/{record.id}/1/zoom.gif", Body=b"g")
    service.delete_image(deps, doomed.id)
    left = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert left == {f"r/{kept.id}/1/256x256/webp", f"gifs/{kept.id}/1/zoom.gif"}


def distribution() -> str:
    """A CloudFront distribution in moto; its id."""
    created = aws.cloudfront().create_distribution(
        DistributionConfig={
            "CallerReference": "tests",
            "Comment": "renditions",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "renditions",
                        "DomainName": "renditions.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "renditions",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return created["Distribution"]["Id"]


def test_delete_invalidates_the_image_at_the_cdn_edges(
    deps: service.Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    distribution_id = distribution()
    monkeypatch.setenv("IMGSVC_CDN_DISTRIBUTION_ID", distribution_id)
    wiring.reset()
    deps = wiring.deps()
    image = service.create_image(deps, upload())
    service.update_image(deps, image.id, upload())

    service.delete_image(deps, image.id)

    cloudfront = aws.cloudfront()
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    assert listed["Quantity"] == 1
    made = cloudfront.get_invalidation(DistributionId=distribution_id, Id=listed["Items"][0]["Id"])
    batch = made["Invalidation"]["InvalidationBatch"]
    assert sorted(batch["Paths"]["Items"]) == [f"/gifs/{image.id}/*", f"/r/{image.id}/*"]
    assert batch["CallerReference"] == f"delete-{image.id}-3"  # the tombstone's version


def test_a_failed_invalidation_does_not_undo_or_fail_the_delete(deps: service.Deps) -> None:
    missing = replace(deps, edge_cache=EdgeCache("E0000000000000", aws.cloudfront))
    image = service.create_image(missing, upload())

    service.delete_image(missing, image.id)

    with pytest.raises(NotFound):
        service.latest(missing, image.id)
    assert service.forget_at_edges(missing, image.id, 2) is None


def test_without_a_cdn_a_delete_invalidates_nothing(deps: service.Deps) -> None:
    assert deps.edge_cache is None
    image = service.create_image(deps, upload())
    service.delete_image(deps, image.id)
    assert service.forget_at_edges(deps, image.id, 2) is None

"""The AWS clients point where AWS wants them: S3 at the bucket's regional endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from imgsvc import aws, keys, wiring
from imgsvc_local import resources


@pytest.fixture
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No custom endpoint and fake credentials: the clients a function gets on AWS."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    aws.reset()
    yield
    aws.reset()


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "ap-southeast-2"])
def test_presigned_urls_use_the_regional_virtual_hosted_endpoint(
    fresh_clients: None, region: str
) -> None:
    # Not https://bkt.s3.amazonaws.com/: S3 redirects (307) that endpoint to the regional one
    # for up to a day after a bucket is created outside us-east-1.
    s3 = aws.s3(region)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "r/a/b"})
    assert url.startswith(f"https://bkt.s3.{region}.amazonaws.com/r/a/b?"), url
    assert f"%2F{region}%2Fs3%2Faws4_request" in url  # signed for the bucket's region
    post = s3.generate_presigned_post("bkt", "uploads/x")
    assert post["url"] == f"https://bkt.s3.{region}.amazonaws.com/"


def test_the_function_region_is_the_default(fresh_clients: None) -> None:
    url = aws.s3().generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"})
    assert urlsplit(url).netloc == "bkt.s3.eu-west-1.amazonaws.com"


def test_upload_forms_post_to_the_uploads_buckets_region(moto_aws: dict[str, str]) -> None:
    inbox = wiring.deps().inbox
    key = keys.upload_key("0" * 32)
    form = inbox.presigned_post(key, "image/png", max_bytes=10, expires=60)
    assert form.url == f"https://{inbox.bucket}.s3.{resources.PRIMARY_REGION}.amazonaws.com/"
    assert form.fields["key"] == key


def test_a_custom_endpoint_keeps_botocores_path_style(
    fresh_clients: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The local mode's moto server on 127.0.0.1 has no bucket subdomains.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5123")
    post = aws.s3("eu-west-1").generate_presigned_post("bkt", "uploads/x")
    assert post["url"] == "http://127.0.0.1:5123/bkt"

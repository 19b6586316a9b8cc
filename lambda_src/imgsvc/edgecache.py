"""The CDN's edge caches: a deleted image's renditions and GIFs leave them too.

CloudFront keeps renditions and GIFs at its edges for ``Config.rendition_max_age`` (14 days by
default). Their keys hold the image version, so an update never needs an invalidation; a delete
does, or the image stays visible at the edges after its objects are gone from the origin. Each
delete asks for one invalidation with two wildcard paths (``/r/<id>/*`` and ``/gifs/<id>/*``),
which CloudFront bills as two paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imgsvc import keys

if TYPE_CHECKING:
    from mypy_boto3_cloudfront.client import CloudFrontClient


def image_paths(image_id: str) -> list[str]:
    """The CDN paths of every rendition and GIF of an image, as invalidation wildcards."""
    return [f"/{keys.rendition_prefix(image_id)}*", f"/{keys.gif_prefix(image_id)}*"]


@dataclass(frozen=True, slots=True)
class EdgeCache:
    """One CloudFront distribution's edge caches. The client is made on the first delete:
    most invocations never need one."""

    distribution_id: str
    client: Callable[[], CloudFrontClient]

    def forget_image(self, image_id: str, reference: str) -> str:
        """Invalidate every cached object of the image; return the invalidation's id.

        ``reference`` names this delete: CloudFront answers a repeated request with the same
        reference with the invalidation it already made, so a retried delete makes no second.
        """
        paths = image_paths(image_id)
        response = self.client().create_invalidation(
            DistributionId=self.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": reference,
            },
        )
        return response["Invalidation"]["Id"]

"""Builds the use cases' dependencies from the configuration, once per process: the metadata
repository, every store of the storage layer (:mod:`imgsvc.storage`) and the CDN's edge caches.

Nothing here calls AWS: clients are created, not used, so building is cheap on a cold start.
"""

from __future__ import annotations

from functools import cache

from imgsvc import aws, config
from imgsvc.edgecache import EdgeCache
from imgsvc.repository import Repository
from imgsvc.service import Deps
from imgsvc.storage import GifStore, Inbox, OriginalStore, RenditionStore


@cache
def deps() -> Deps:
    cfg = config.load()
    s3 = aws.s3()
    return Deps(
        config=cfg,
        repository=Repository(aws.dynamodb(), cfg.table_name),
        originals=OriginalStore(
            client=s3,
            bucket=cfg.originals_bucket,
            replica_client=aws.s3(cfg.replica_region) if cfg.replica_bucket else None,
            replica_bucket=cfg.replica_bucket,
        ),
        renditions=RenditionStore(s3, cfg.renditions_bucket, cfg.rendition_max_age),
        gifs=GifStore(s3, cfg.renditions_bucket),
        inbox=Inbox(s3, cfg.uploads_bucket),
        edge_cache=(
            EdgeCache(cfg.cdn_distribution_id, aws.cloudfront) if cfg.cdn_distribution_id else None
        ),
    )


def reset() -> None:
    """Forget the configuration, clients and dependencies (tests that change the environment)."""
    deps.cache_clear()
    config.load.cache_clear()
    aws.reset()

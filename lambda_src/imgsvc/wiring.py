"""Builds the use cases' dependencies from the configuration, once per process."""

from __future__ import annotations

from functools import cache

from imgsvc import aws, config
from imgsvc.edgecache import EdgeCache
from imgsvc.repository import Repository
from imgsvc.service import Deps
from imgsvc.storage import Storage


@cache
def deps() -> Deps:
    cfg = config.load()
    return Deps(
        config=cfg,
        repository=Repository(aws.dynamodb(), cfg.table_name),
        storage=Storage(
            client=aws.s3(),
            bucket=cfg.originals_bucket,
            replica_client=aws.s3(cfg.replica_region) if cfg.replica_bucket else None,
            replica_bucket=cfg.replica_bucket,
        ),
        edge_cache=(
            EdgeCache(cfg.cdn_distribution_id, aws.cloudfront) if cfg.cdn_distribution_id else None
        ),
    )


def reset() -> None:
    """Forget the configuration, clients and dependencies (tests that change the environment)."""
    deps.cache_clear()
    config.load.cache_clear()
    aws.reset()

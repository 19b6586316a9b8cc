# Least privilege per function: exactly the calls each handler makes, on the key prefixes it
# owns (lambda_src/imgsvc/keys.py). The function module adds writing its own logs and X-Ray.
#
# s3:ListBucket is granted on each bucket where a handler checks whether an object exists:
# without it S3 answers 403 instead of 404 for a missing key, and the code (rightly) treats 403
# as an error, not as "missing".

locals {
  # Queue ARNs from the fanout module's naming (<name>-<consumer>), not from its outputs: the
  # queues' event source mappings need these policies first, so the policies cannot wait for
  # the module (a dependency cycle). The region is the provider's, where the queues are.
  queue_arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${local.account_id}:"

  table_arns     = [module.table.table_arn] # the table has no indexes
  originals_keys = "${module.originals.bucket_arn}/originals/*"
  replica_keys   = "${module.originals.replica_bucket_arn}/originals/*"
  renditions_arn = module.renditions.bucket_arn
  uploads_arn    = module.uploads.bucket_arn
}

# Reading an original version: from the main bucket, or from the replica when the main region
# fails (where the version id may differ, so versions are listed to find it by checksum).
data "aws_iam_policy_document" "read_originals" {
  statement {
    sid       = "ReadOriginals"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.originals_keys, local.replica_keys]
  }

  statement {
    sid       = "ListOriginals"
    actions   = ["s3:ListBucket"]
    resources = [module.originals.bucket_arn, module.originals.replica_bucket_arn]
  }

  statement {
    sid       = "FindReplicaVersions"
    actions   = ["s3:ListBucketVersions"]
    resources = [module.originals.replica_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["originals/*"]
    }
  }
}

data "aws_iam_policy_document" "api" {
  source_policy_documents = [data.aws_iam_policy_document.read_originals.json]

  statement {
    sid       = "Metadata"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = local.table_arns
  }

  # New versions; DELETE hides the image behind a delete marker; a failed write removes the
  # S3 version it made.
  statement {
    sid       = "WriteOriginals"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = [local.originals_keys]
  }

  # POST /uploads hands out a presigned POST: S3 checks it against this role's permissions.
  # GET /uploads/{id} looks whether the file has arrived.
  statement {
    sid       = "DirectUploads"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${local.uploads_arn}/uploads/*"]
  }

  # GET /images/{id}/gifs lists the GIFs; DELETE /images/{id} removes renditions and GIFs.
  statement {
    sid       = "Derivatives"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = ["${local.renditions_arn}/r/*", "${local.renditions_arn}/gifs/*"]
  }

  statement {
    sid       = "ListUploadsAndDerivatives"
    actions   = ["s3:ListBucket"]
    resources = [local.uploads_arn, local.renditions_arn]
  }

  # DELETE /images/{id}: the edges forget the image's renditions and GIFs (a CloudFront
  # invalidation; its paths cannot be narrowed by IAM, the distribution can).
  statement {
    sid       = "InvalidateEdgeCaches"
    actions   = ["cloudfront:CreateInvalidation"]
    resources = [module.cdn.distribution_arn]
  }
}

data "aws_iam_policy_document" "resize" {
  source_policy_documents = [data.aws_iam_policy_document.read_originals.json]

  statement {
    sid       = "Metadata"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = local.table_arns
  }

  statement {
    sid       = "Renditions"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.renditions_arn}/r/*"]
  }

  statement {
    sid       = "ListRenditions"
    actions   = ["s3:ListBucket"]
    resources = [local.renditions_arn]
  }
}

data "aws_iam_policy_document" "uploads" {
  statement {
    sid       = "Metadata"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = local.table_arns
  }

  statement {
    sid       = "TakeUploads"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = ["${local.uploads_arn}/uploads/*"]
  }

  statement {
    sid       = "ListUploads"
    actions   = ["s3:ListBucket"]
    resources = [local.uploads_arn]
  }

  # Version 1 of the image; a failed write removes the S3 version it made.
  statement {
    sid       = "StoreOriginals"
    actions   = ["s3:PutObject", "s3:DeleteObjectVersion"]
    resources = [local.originals_keys]
  }

  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = ["${local.queue_arn_prefix}${var.name_prefix}-uploads-uploads"]
  }
}

data "aws_iam_policy_document" "effects" {
  for_each = toset(var.gif_effects)

  source_policy_documents = [data.aws_iam_policy_document.read_originals.json]

  statement {
    sid       = "Metadata"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = local.table_arns
  }

  # Only its own effect: gifs/<id>/<version>/<effect>.gif, or .failed when it cannot be made.
  # DeleteObject: what it wrote while the image was being deleted is removed again.
  statement {
    sid     = "WriteGifs"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${local.renditions_arn}/gifs/*/${each.key}.gif",
      "${local.renditions_arn}/gifs/*/${each.key}.failed",
    ]
  }

  statement {
    sid       = "ListGifs"
    actions   = ["s3:ListBucket"]
    resources = [local.renditions_arn]
  }

  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = ["${local.queue_arn_prefix}${var.name_prefix}-originals-${each.key}"]
  }
}

# Least privilege per function: exactly the calls each handler makes, on the key prefixes it
# owns (lambda_src/imgsvc/keys.py). The function module adds writing its own logs and X-Ray.
#
# s3:ListBucket (limited to a prefix) is granted wherever a handler checks whether an object
# exists: without it S3 answers 403 instead of 404 for a missing key.

locals {
  # Queue ARNs from the fanout module's naming (<name>-<consumer>), not from its outputs: the
  # queues' event source mappings need these policies first, so the policies cannot wait for
  # the module (a dependency cycle).
  queue_arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${var.region}:${local.account_id}:"

  table_arns = [module.table.table_arn] # the table has no indexes

  originals = {
    bucket = module.originals.bucket_arn
    keys   = "${module.originals.bucket_arn}/originals/*"
  }
  replica = {
    bucket = module.originals.replica_bucket_arn
    keys   = "${module.originals.replica_bucket_arn}/originals/*"
  }
}

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "Metadata"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = local.table_arns
  }

  statement {
    sid = "Originals"
    actions = [
      "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
      "s3:DeleteObject", "s3:DeleteObjectVersion",
    ]
    resources = [local.originals.keys]
  }

  statement {
    sid       = "ReplicaReads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.replica.keys]
  }

  statement {
    sid       = "FindVersions"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.originals.bucket, local.replica.bucket]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["originals/*"]
    }
  }

  # POST /uploads hands out a presigned POST: S3 checks it against this role's permissions.
  # GET /uploads/{id} reads whether the file has arrived.
  statement {
    sid       = "DirectUploads"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${module.uploads.bucket_arn}/uploads/*"]
  }

  statement {
    sid       = "GifStatus"
    actions   = ["s3:GetObject"]
    resources = ["${module.renditions.bucket_arn}/gifs/*"]
  }

  statement {
    sid       = "ListUploadsAndGifs"
    actions   = ["s3:ListBucket"]
    resources = [module.uploads.bucket_arn, module.renditions.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["uploads/*", "gifs/*"]
    }
  }
}

data "aws_iam_policy_document" "resize" {
  statement {
    sid       = "Metadata"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = local.table_arns
  }

  statement {
    sid       = "ReadOriginals"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.originals.keys, local.replica.keys]
  }

  statement {
    sid       = "FindVersions"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.originals.bucket, local.replica.bucket]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["originals/*"]
    }
  }

  statement {
    sid       = "Renditions"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${module.renditions.bucket_arn}/r/*"]
  }

  statement {
    sid       = "FindRenditions"
    actions   = ["s3:ListBucket"]
    resources = [module.renditions.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["r/*"]
    }
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
    resources = ["${module.uploads.bucket_arn}/uploads/*"]
  }

  statement {
    sid       = "FindUploads"
    actions   = ["s3:ListBucket"]
    resources = [module.uploads.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["uploads/*"]
    }
  }

  statement {
    sid       = "StoreOriginals"
    actions   = ["s3:PutObject"]
    resources = [local.originals.keys]
  }

  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = ["${local.queue_arn_prefix}${var.name_prefix}-uploads-uploads"]
  }
}

data "aws_iam_policy_document" "effects" {
  for_each = toset(var.gif_effects)

  statement {
    sid       = "Metadata"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = local.table_arns
  }

  statement {
    sid       = "ReadOriginals"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.originals.keys, local.replica.keys]
  }

  statement {
    sid       = "FindVersions"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.originals.bucket, local.replica.bucket]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["originals/*"]
    }
  }

  # Only its own effect: gifs/<id>/<version>/<effect>.gif.
  statement {
    sid       = "WriteGifs"
    actions   = ["s3:PutObject"]
    resources = ["${module.renditions.bucket_arn}/gifs/*/${each.key}.gif"]
  }

  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = ["${local.queue_arn_prefix}${var.name_prefix}-originals-${each.key}"]
  }
}

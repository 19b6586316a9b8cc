# S3 object-created events -> SNS topic (KMS) -> one SQS queue per consumer -> Lambda.
# With topic_enabled = false: S3 -> the single consumer's queue -> Lambda.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
  events     = ["s3:ObjectCreated:*"]

  create_kms_key = var.topic_enabled && var.kms_key_arn == null
  topic_key_arn  = var.topic_enabled ? coalesce(var.kms_key_arn, try(aws_kms_key.topic[0].arn, null)) : null
}

# --- topic encryption key ----------------------------------------------------------------
# S3 can publish to an encrypted topic only if the key's policy lets s3.amazonaws.com use it.
# The AWS managed alias/aws/sns key's policy can't be changed, so the default is a dedicated key.

data "aws_iam_policy_document" "topic_key" {
  count = local.create_kms_key ? 1 : 0

  #checkov:skip=CKV_AWS_109:A key policy's "*" resource is the key itself; the account statement is the AWS default that lets IAM policies grant use of the key.
  #checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself; the account statement is the AWS default that lets IAM policies grant use of the key.
  #checkov:skip=CKV_AWS_356:A key policy's "*" resource is the key itself.
  statement {
    sid       = "AccountManagesKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "S3EncryptsEventsForThisTopic"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    # SNS always encrypts with the topic's ARN as context: the key serves this topic only.
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:sns:topicArn"
      values   = ["arn:${data.aws_partition.current.partition}:sns:*:${local.account_id}:${var.name}"]
    }
  }
}

resource "aws_kms_key" "topic" {
  count = local.create_kms_key ? 1 : 0

  description         = "Encrypts the ${var.name} SNS topic (S3 object-created events of ${var.bucket_name})"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.topic_key[0].json
  tags                = var.tags
}

resource "aws_kms_alias" "topic" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-topic"
  target_key_id = aws_kms_key.topic[0].key_id
}

# --- topic -------------------------------------------------------------------------------
# Requests to an SSE topic must use HTTPS and SigV4, so TLS needs no extra policy statement.

resource "aws_sns_topic" "this" {
  count = var.topic_enabled ? 1 : 0

  name              = var.name
  kms_master_key_id = local.topic_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  count = var.topic_enabled ? 1 : 0

  statement {
    sid       = "BucketPublishesObjectCreatedEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this[0].arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.bucket_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  count = var.topic_enabled ? 1 : 0

  arn    = aws_sns_topic.this[0].arn
  policy = data.aws_iam_policy_document.topic[0].json
}

# --- the bucket's notification configuration (one per bucket: this module owns it) -------

resource "aws_s3_bucket_notification" "this" {
  bucket = var.bucket_name

  dynamic "topic" {
    for_each = var.topic_enabled ? [aws_sns_topic.this[0].arn] : []
    content {
      id            = "${var.name}-object-created"
      topic_arn     = topic.value
      events        = local.events
      filter_prefix = var.filter_prefix == "" ? null : var.filter_prefix
    }
  }

  dynamic "queue" {
    for_each = var.topic_enabled ? {} : aws_sqs_queue.this
    content {
      id            = "${var.name}-object-created"
      queue_arn     = queue.value.arn
      events        = local.events
      filter_prefix = var.filter_prefix == "" ? null : var.filter_prefix
    }
  }

  lifecycle {
    precondition {
      condition     = var.topic_enabled || length(var.consumers) == 1
      error_message = "topic_enabled = false sends the bucket's events straight to one queue: give exactly one consumer (or turn the topic on to fan out)."
    }
  }

  # S3 checks it may publish to each destination when the configuration is saved (and sends a test event through).
  depends_on = [aws_sns_topic_policy.this, aws_sqs_queue_policy.this, aws_sns_topic_subscription.this]
}

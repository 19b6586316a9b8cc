# One queue per consumer, each with its dead-letter queue, drained by the consumer's Lambda.

locals {
  # Source queues keep messages 4 days; a message keeps its first enqueue time when it moves
  # to the DLQ, so DLQs keep the maximum (14 days) to leave time to inspect and redrive.
  message_retention_seconds     = 345600
  dlq_message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "dlq" {
  for_each = var.consumers

  name                      = "${var.name}-${each.key}-dlq"
  message_retention_seconds = local.dlq_message_retention_seconds
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "this" {
  for_each = var.consumers

  name                       = "${var.name}-${each.key}"
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  message_retention_seconds  = local.message_retention_seconds
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = each.value.max_receive_count
  })
  tags = var.tags
}

data "aws_iam_policy_document" "queue" {
  for_each = var.consumers

  # Producer: the topic, or the bucket itself when there is no topic.
  statement {
    sid       = var.topic_enabled ? "TopicDelivers" : "BucketSendsObjectCreatedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this[each.key].arn]

    principals {
      type        = "Service"
      identifiers = [var.topic_enabled ? "sns.amazonaws.com" : "s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [var.topic_enabled ? aws_sns_topic.this[0].arn : local.bucket_arn]
    }

    dynamic "condition" {
      for_each = var.topic_enabled ? [] : [local.account_id]
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [condition.value]
      }
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.this[each.key].arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  for_each = var.consumers

  queue_url = aws_sqs_queue.this[each.key].id
  policy    = data.aws_iam_policy_document.queue[each.key].json
}

data "aws_iam_policy_document" "dlq" {
  for_each = var.consumers

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.dlq[each.key].arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  for_each = var.consumers

  queue_url = aws_sqs_queue.dlq[each.key].id
  policy    = data.aws_iam_policy_document.dlq[each.key].json
}

# Only the consumer's own queue may move messages into its DLQ (without this, SQS lets any queue
# of the account use it as a dead-letter queue).
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  for_each = var.consumers

  queue_url = aws_sqs_queue.dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this[each.key].arn]
  })
}

# Raw delivery: the queue message body is the S3 event itself ({"Records": [...]}), exactly
# what S3 sends to a queue directly, so consumers parse one format with or without the topic.
resource "aws_sns_topic_subscription" "this" {
  for_each = var.topic_enabled ? var.consumers : {}

  topic_arn            = aws_sns_topic.this[0].arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.this[each.key].arn
  raw_message_delivery = true

  # Deliveries start at once: the queue must already accept the topic's messages.
  depends_on = [aws_sqs_queue_policy.this]
}

resource "aws_lambda_event_source_mapping" "this" {
  for_each = var.consumers

  event_source_arn        = aws_sqs_queue.this[each.key].arn
  function_name           = each.value.function_name
  batch_size              = each.value.batch_size
  function_response_types = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = each.value.maximum_concurrency == null ? [] : [each.value.maximum_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }
}

# Mocked computed values must look real where the provider validates them (ARNs).
mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:imgsvc-test-originals"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:mock-queue"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock-queue"
    }
  }
}

# Distinct ARNs for the queues the assertions tell apart.
override_resource {
  target = aws_sqs_queue.this["grayscale"]
  values = {
    arn  = "arn:aws:sqs:eu-west-1:123456789012:imgsvc-test-originals-grayscale"
    name = "imgsvc-test-originals-grayscale"
  }
}

override_resource {
  target = aws_sqs_queue.dlq["grayscale"]
  values = {
    arn  = "arn:aws:sqs:eu-west-1:123456789012:imgsvc-test-originals-grayscale-dlq"
    name = "imgsvc-test-originals-grayscale-dlq"
  }
}

override_resource {
  target = aws_sqs_queue.this["sepia"]
  values = {
    arn  = "arn:aws:sqs:eu-west-1:123456789012:imgsvc-test-originals-sepia"
    name = "imgsvc-test-originals-sepia"
  }
}

override_resource {
  target = aws_sqs_queue.dlq["sepia"]
  values = {
    arn  = "arn:aws:sqs:eu-west-1:123456789012:imgsvc-test-originals-sepia-dlq"
    name = "imgsvc-test-originals-sepia-dlq"
  }
}

variables {
  name        = "imgsvc-test-originals"
  bucket_name = "imgsvc-test-originals"
  consumers = {
    grayscale = { function_name = "imgsvc-test-effect-grayscale" }
    sepia = {
      function_name              = "imgsvc-test-effect-sepia"
      batch_size                 = 2
      max_receive_count          = 5
      visibility_timeout_seconds = 360
      maximum_concurrency        = 4
    }
  }
}

run "bucket_events_reach_an_encrypted_topic_s3_may_publish_to" {
  command = apply

  assert {
    condition     = aws_s3_bucket_notification.this.bucket == "imgsvc-test-originals"
    error_message = "The notification must be configured on the given bucket."
  }

  assert {
    condition = (
      length(aws_s3_bucket_notification.this.topic) == 1
      && length(aws_s3_bucket_notification.this.queue) == 0
      && aws_s3_bucket_notification.this.topic[0].topic_arn == aws_sns_topic.this[0].arn
      && aws_s3_bucket_notification.this.topic[0].events == toset(["s3:ObjectCreated:*"])
      && aws_s3_bucket_notification.this.topic[0].filter_prefix == "originals/"
    )
    error_message = "Object-created events under originals/ must go to the topic, and nowhere else."
  }

  assert {
    condition     = aws_sns_topic.this[0].name == "imgsvc-test-originals" && output.topic_arn == aws_sns_topic.this[0].arn
    error_message = "The topic must be named after var.name and exported."
  }

  assert {
    condition     = length(aws_kms_key.topic) == 1 && aws_kms_key.topic[0].enable_key_rotation && aws_sns_topic.this[0].kms_master_key_id == aws_kms_key.topic[0].arn
    error_message = "Without kms_key_arn the topic must be encrypted with a dedicated, rotated key."
  }

  assert {
    condition     = output.topic_kms_key_arn == aws_kms_key.topic[0].arn
    error_message = "topic_kms_key_arn must be the key encrypting the topic."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.topic_key[0].statement :
      anytrue([for p in s.principals : p.type == "Service" && p.identifiers == toset(["s3.amazonaws.com"])])
      && s.actions == toset(["kms:GenerateDataKey*", "kms:Decrypt"])
      && anytrue([for c in s.condition : c.variable == "kms:EncryptionContext:aws:sns:topicArn" && c.values == tolist(["arn:aws:sns:*:123456789012:imgsvc-test-originals"])])
    ])
    error_message = "The key policy must let S3 encrypt events for this topic only."
  }

  assert {
    condition     = aws_kms_key.topic[0].policy == data.aws_iam_policy_document.topic_key[0].json
    error_message = "The key must carry the module's key policy."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.topic[0].statement :
      s.actions == toset(["sns:Publish"]) && s.resources == toset([aws_sns_topic.this[0].arn])
      && anytrue([for p in s.principals : p.type == "Service" && p.identifiers == toset(["s3.amazonaws.com"])])
      && anytrue([for c in s.condition : c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:s3:::imgsvc-test-originals"])])
      && anytrue([for c in s.condition : c.variable == "aws:SourceAccount" && c.values == tolist(["123456789012"])])
    ])
    error_message = "The topic policy must let S3 publish only for this bucket in this account."
  }

  assert {
    condition     = aws_sns_topic_policy.this[0].arn == aws_sns_topic.this[0].arn && aws_sns_topic_policy.this[0].policy == data.aws_iam_policy_document.topic[0].json
    error_message = "The topic policy must be attached to the topic."
  }
}

run "each_consumer_gets_a_subscribed_encrypted_queue_with_a_dlq" {
  command = apply

  assert {
    condition = (
      aws_sqs_queue.this["grayscale"].name == "imgsvc-test-originals-grayscale"
      && aws_sqs_queue.dlq["grayscale"].name == "imgsvc-test-originals-grayscale-dlq"
    )
    error_message = "Queues must be named <name>-<consumer> and <name>-<consumer>-dlq."
  }

  assert {
    condition     = alltrue([for q in concat(values(aws_sqs_queue.this), values(aws_sqs_queue.dlq)) : q.sqs_managed_sse_enabled])
    error_message = "Every queue and DLQ must be encrypted (SSE-SQS)."
  }

  assert {
    condition = (
      jsondecode(aws_sqs_queue.this["grayscale"].redrive_policy).deadLetterTargetArn == aws_sqs_queue.dlq["grayscale"].arn
      && jsondecode(aws_sqs_queue.this["grayscale"].redrive_policy).maxReceiveCount == 3
    )
    error_message = "grayscale must redrive to its own DLQ after the default 3 receives."
  }

  assert {
    condition = (
      jsondecode(aws_sqs_queue.this["sepia"].redrive_policy).deadLetterTargetArn == aws_sqs_queue.dlq["sepia"].arn
      && jsondecode(aws_sqs_queue.this["sepia"].redrive_policy).maxReceiveCount == 5
    )
    error_message = "sepia must redrive to its own DLQ after the configured 5 receives."
  }

  assert {
    condition = alltrue([
      for key in ["grayscale", "sepia"] :
      aws_sqs_queue_redrive_allow_policy.dlq[key].queue_url == aws_sqs_queue.dlq[key].id
      && jsondecode(aws_sqs_queue_redrive_allow_policy.dlq[key].redrive_allow_policy).redrivePermission == "byQueue"
      && jsondecode(aws_sqs_queue_redrive_allow_policy.dlq[key].redrive_allow_policy).sourceQueueArns == [aws_sqs_queue.this[key].arn]
    ])
    error_message = "Each DLQ must accept messages from its own consumer's queue only (redrivePermission byQueue)."
  }

  assert {
    condition     = aws_sqs_queue.this["grayscale"].visibility_timeout_seconds == 120 && aws_sqs_queue.this["sepia"].visibility_timeout_seconds == 360
    error_message = "Visibility timeouts must follow each consumer's setting (default 120 s)."
  }

  assert {
    condition     = aws_sqs_queue.dlq["sepia"].message_retention_seconds == 1209600 && aws_sqs_queue.this["sepia"].message_retention_seconds < aws_sqs_queue.dlq["sepia"].message_retention_seconds
    error_message = "DLQs must keep messages 14 days, longer than their source queue."
  }

  assert {
    condition = alltrue([
      for key in ["grayscale", "sepia"] :
      aws_sns_topic_subscription.this[key].protocol == "sqs"
      && aws_sns_topic_subscription.this[key].endpoint == aws_sqs_queue.this[key].arn
      && aws_sns_topic_subscription.this[key].topic_arn == aws_sns_topic.this[0].arn
      && aws_sns_topic_subscription.this[key].raw_message_delivery
    ])
    error_message = "Each queue must be subscribed to the topic with raw message delivery."
  }

  assert {
    condition = alltrue([
      for key in ["grayscale", "sepia"] :
      anytrue([
        for s in data.aws_iam_policy_document.queue[key].statement :
        s.effect != "Deny" && s.actions == toset(["sqs:SendMessage"]) && s.resources == toset([aws_sqs_queue.this[key].arn])
        && anytrue([for p in s.principals : p.identifiers == toset(["sns.amazonaws.com"])])
        && anytrue([for c in s.condition : c.test == "ArnEquals" && c.variable == "aws:SourceArn" && c.values == tolist([aws_sns_topic.this[0].arn])])
      ])
    ])
    error_message = "Each queue must accept messages only from the topic."
  }

  assert {
    condition = alltrue([
      for doc in concat(values(data.aws_iam_policy_document.queue), values(data.aws_iam_policy_document.dlq)) :
      anytrue([
        for s in doc.statement : s.effect == "Deny" && contains(s.actions, "sqs:*")
        && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && c.values == tolist(["false"])])
      ])
    ])
    error_message = "Every queue and DLQ must deny requests without TLS."
  }

  assert {
    condition     = aws_sqs_queue_policy.this["sepia"].policy == data.aws_iam_policy_document.queue["sepia"].json && aws_sqs_queue_policy.dlq["sepia"].policy == data.aws_iam_policy_document.dlq["sepia"].json
    error_message = "The policies must be attached to their queues."
  }

  assert {
    condition = (
      output.queue_arns == { grayscale = aws_sqs_queue.this["grayscale"].arn, sepia = aws_sqs_queue.this["sepia"].arn }
      && output.dlq_arns == { grayscale = aws_sqs_queue.dlq["grayscale"].arn, sepia = aws_sqs_queue.dlq["sepia"].arn }
      && keys(output.queue_urls) == ["grayscale", "sepia"] && keys(output.dlq_urls) == ["grayscale", "sepia"]
    )
    error_message = "Queue and DLQ ARNs/URLs must be exported by consumer name."
  }
}

run "lambdas_drain_their_queues_reporting_partial_batch_failures" {
  command = apply

  assert {
    condition     = alltrue([for m in values(aws_lambda_event_source_mapping.this) : m.function_response_types == toset(["ReportBatchItemFailures"])])
    error_message = "Every event source mapping must report batch item failures."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this["grayscale"].event_source_arn == aws_sqs_queue.this["grayscale"].arn
      && aws_lambda_event_source_mapping.this["grayscale"].function_name == "imgsvc-test-effect-grayscale"
      && aws_lambda_event_source_mapping.this["grayscale"].batch_size == 5
      && length(aws_lambda_event_source_mapping.this["grayscale"].scaling_config) == 0
    )
    error_message = "grayscale must be drained by its function in batches of 5 without a concurrency cap."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this["sepia"].event_source_arn == aws_sqs_queue.this["sepia"].arn
      && aws_lambda_event_source_mapping.this["sepia"].batch_size == 2
      && aws_lambda_event_source_mapping.this["sepia"].scaling_config[0].maximum_concurrency == 4
    )
    error_message = "sepia must follow its batch size and maximum concurrency."
  }
}

run "alarms_on_dlq_depth_errors_and_throttles_without_actions_by_default" {
  command = apply

  assert {
    condition = output.alarm_names == sort([
      "imgsvc-test-originals-grayscale-dlq-not-empty", "imgsvc-test-originals-grayscale-errors", "imgsvc-test-originals-grayscale-throttles",
      "imgsvc-test-originals-sepia-dlq-not-empty", "imgsvc-test-originals-sepia-errors", "imgsvc-test-originals-sepia-throttles",
    ])
    error_message = "Three alarms per consumer must exist and be exported."
  }

  assert {
    condition = alltrue([
      for key in ["grayscale", "sepia"] :
      aws_cloudwatch_metric_alarm.dlq_messages[key].namespace == "AWS/SQS"
      && aws_cloudwatch_metric_alarm.dlq_messages[key].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.dlq_messages[key].dimensions == tomap({ QueueName = aws_sqs_queue.dlq[key].name })
      && aws_cloudwatch_metric_alarm.dlq_messages[key].comparison_operator == "GreaterThanThreshold"
      && aws_cloudwatch_metric_alarm.dlq_messages[key].threshold == 0
    ])
    error_message = "Each DLQ must alarm as soon as it holds a message."
  }

  assert {
    condition = alltrue([
      for alarm in concat(values(aws_cloudwatch_metric_alarm.function_errors), values(aws_cloudwatch_metric_alarm.function_throttles)) :
      alarm.namespace == "AWS/Lambda" && alarm.comparison_operator == "GreaterThanThreshold" && alarm.threshold == 0 && alarm.statistic == "Sum"
    ])
    error_message = "Function alarms must fire on any error or throttle."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.function_errors["sepia"].metric_name == "Errors"
      && aws_cloudwatch_metric_alarm.function_errors["sepia"].dimensions == tomap({ FunctionName = "imgsvc-test-effect-sepia" })
      && aws_cloudwatch_metric_alarm.function_throttles["sepia"].metric_name == "Throttles"
      && aws_cloudwatch_metric_alarm.function_throttles["sepia"].dimensions == tomap({ FunctionName = "imgsvc-test-effect-sepia" })
    )
    error_message = "Function alarms must watch the consumer's own function."
  }

  assert {
    condition = alltrue([
      for alarm in concat(values(aws_cloudwatch_metric_alarm.dlq_messages), values(aws_cloudwatch_metric_alarm.function_errors), values(aws_cloudwatch_metric_alarm.function_throttles)) :
      length(alarm.alarm_actions) == 0 && length(alarm.ok_actions) == 0
    ])
    error_message = "Without alarm_topic_arn the alarms must have no actions."
  }
}

run "alarms_notify_the_alarm_topic_when_given" {
  command = apply

  variables {
    alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:imgsvc-test-alarms"
  }

  assert {
    condition = alltrue([
      for alarm in concat(values(aws_cloudwatch_metric_alarm.dlq_messages), values(aws_cloudwatch_metric_alarm.function_errors), values(aws_cloudwatch_metric_alarm.function_throttles)) :
      alarm.alarm_actions == toset([var.alarm_topic_arn]) && alarm.ok_actions == toset([var.alarm_topic_arn])
    ])
    error_message = "Every alarm must notify the alarm topic when it fires and when it recovers."
  }
}

run "given_kms_key_is_used_and_no_key_created" {
  command = apply

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/99999999-8888-7777-6666-555555555555"
  }

  assert {
    condition     = length(aws_kms_key.topic) == 0 && length(aws_kms_alias.topic) == 0
    error_message = "No key may be created when one is given."
  }

  assert {
    condition     = aws_sns_topic.this[0].kms_master_key_id == var.kms_key_arn && output.topic_kms_key_arn == var.kms_key_arn
    error_message = "The topic must be encrypted with the given key."
  }
}

run "without_topic_the_bucket_feeds_the_single_queue_directly" {
  command = apply

  variables {
    name          = "imgsvc-test-uploads"
    bucket_name   = "imgsvc-test-uploads"
    filter_prefix = "uploads/"
    topic_enabled = false
    consumers = {
      grayscale = { function_name = "imgsvc-test-uploads" }
    }
  }

  assert {
    condition     = length(aws_sns_topic.this) == 0 && length(aws_kms_key.topic) == 0 && length(aws_sns_topic_subscription.this) == 0
    error_message = "No topic, key or subscription without the topic."
  }

  assert {
    condition     = output.topic_arn == null && output.topic_kms_key_arn == null
    error_message = "Topic outputs must be null without the topic."
  }

  assert {
    condition = (
      length(aws_s3_bucket_notification.this.topic) == 0
      && length(aws_s3_bucket_notification.this.queue) == 1
      && aws_s3_bucket_notification.this.queue[0].queue_arn == aws_sqs_queue.this["grayscale"].arn
      && aws_s3_bucket_notification.this.queue[0].events == toset(["s3:ObjectCreated:*"])
      && aws_s3_bucket_notification.this.queue[0].filter_prefix == "uploads/"
    )
    error_message = "Object-created events under uploads/ must go straight to the queue."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.queue["grayscale"].statement :
      s.actions == toset(["sqs:SendMessage"])
      && anytrue([for p in s.principals : p.identifiers == toset(["s3.amazonaws.com"])])
      && anytrue([for c in s.condition : c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:s3:::imgsvc-test-uploads"])])
      && anytrue([for c in s.condition : c.variable == "aws:SourceAccount" && c.values == tolist(["123456789012"])])
    ])
    error_message = "The queue must accept messages only from the bucket in this account."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this["grayscale"].function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The consumer must still report batch item failures."
  }
}

run "every_object_when_filter_prefix_is_empty" {
  command = plan

  variables {
    filter_prefix = ""
  }

  assert {
    condition     = aws_s3_bucket_notification.this.topic[0].filter_prefix == null
    error_message = "An empty filter_prefix must not filter."
  }
}

run "rejects_direct_delivery_to_two_consumers" {
  command = plan

  variables {
    topic_enabled = false
  }

  expect_failures = [aws_s3_bucket_notification.this]
}

run "rejects_upper_case_consumer_name" {
  command = plan

  variables {
    consumers = { Grayscale = { function_name = "imgsvc-test-effect-grayscale" } }
  }

  expect_failures = [var.consumers]
}

run "rejects_consumer_name_with_underscore" {
  command = plan

  variables {
    consumers = { gray_scale = { function_name = "imgsvc-test-effect-grayscale" } }
  }

  expect_failures = [var.consumers]
}

run "rejects_too_long_consumer_name" {
  command = plan

  variables {
    consumers = { "a-consumer-name-that-is-far-too-long-for-queues" = { function_name = "imgsvc-test-effect-grayscale" } }
  }

  expect_failures = [var.consumers]
}

run "rejects_function_arn_instead_of_name" {
  command = plan

  variables {
    consumers = { grayscale = { function_name = "arn:aws:lambda:eu-west-1:123456789012:function:grayscale" } }
  }

  expect_failures = [var.consumers]
}

run "rejects_batch_size_above_ten" {
  command = plan

  variables {
    consumers = { grayscale = { function_name = "grayscale", batch_size = 11 } }
  }

  expect_failures = [var.consumers]
}

run "rejects_batch_size_zero" {
  command = plan

  variables {
    consumers = { grayscale = { function_name = "grayscale", batch_size = 0 } }
  }

  expect_failures = [var.consumers]
}

run "rejects_max_receive_count_zero" {
  command = plan

  variables {
    consumers = { grayscale = { function_name = "grayscale", max_receive_count = 0 } }
  }

  expect_failures = [var.consumers]
}

run "rejects_visibility_timeout_beyond_twelve_hours" {
  command = plan

  variables {
    consumers = { grayscale = { function_name = "grayscale", visibility_timeout_seconds = 43201 } }
  }

  expect_failures = [var.consumers]
}

run "rejects_maximum_concurrency_below_two" {
  command = plan

  variables {
    consumers = { grayscale = { function_name = "grayscale", maximum_concurrency = 1 } }
  }

  expect_failures = [var.consumers]
}

run "rejects_aws_managed_sns_key" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/sns"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_name_with_spaces" {
  command = plan

  variables {
    name = "imgsvc test"
  }

  expect_failures = [var.name]
}

run "rejects_filter_prefix_with_leading_slash" {
  command = plan

  variables {
    filter_prefix = "/originals/"
  }

  expect_failures = [var.filter_prefix]
}

run "rejects_alarm_topic_that_is_not_an_sns_arn" {
  command = plan

  variables {
    alarm_topic_arn = "imgsvc-alarms"
  }

  expect_failures = [var.alarm_topic_arn]
}

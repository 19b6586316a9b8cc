output "topic_arn" {
  description = "ARN of the SNS topic carrying the bucket's object-created events; null when topic_enabled is false. Other subscribers may subscribe to it."
  value       = var.topic_enabled ? aws_sns_topic.this[0].arn : null
}

output "topic_kms_key_arn" {
  description = "ARN of the KMS key encrypting the topic (created or given); null when topic_enabled is false. Publishers need kms:GenerateDataKey and kms:Decrypt on it."
  value       = local.topic_key_arn
}

output "queue_arns" {
  description = "ARN of each consumer's queue, by consumer name (grant the consumer's function sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on it)."
  value       = { for key, queue in aws_sqs_queue.this : key => queue.arn }
}

output "queue_urls" {
  description = "URL of each consumer's queue, by consumer name."
  value       = { for key, queue in aws_sqs_queue.this : key => queue.url }
}

output "dlq_arns" {
  description = "ARN of each consumer's dead-letter queue, by consumer name."
  value       = { for key, queue in aws_sqs_queue.dlq : key => queue.arn }
}

output "dlq_urls" {
  description = "URL of each consumer's dead-letter queue, by consumer name."
  value       = { for key, queue in aws_sqs_queue.dlq : key => queue.url }
}

output "alarm_names" {
  description = "Names of every alarm the module creates (DLQ not empty, function errors, function throttles per consumer)."
  value = sort(concat(
    [for alarm in aws_cloudwatch_metric_alarm.dlq_messages : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_throttles : alarm.alarm_name],
  ))
}

output "topic_arn" {
  description = "The topic every new object is published to."
  value       = module.fanout.topic_arn
}

output "queue_arns" {
  description = "Each consumer's queue."
  value       = module.fanout.queue_arns
}

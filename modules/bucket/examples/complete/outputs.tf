output "uploads_bucket_name" {
  description = "Name of the uploads bucket."
  value       = module.uploads_bucket.bucket_name
}

output "renditions_bucket_arn" {
  description = "ARN of the renditions bucket."
  value       = module.renditions_bucket.bucket_arn
}

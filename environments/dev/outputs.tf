# The stack's outputs, for `terraform output` in this directory (docs/deploy.md).

output "api_url" {
  description = "Base URL of the API (https://<id>.execute-api.<region>.amazonaws.com/<stage>)."
  value       = module.stack.api_url
}

output "cdn_url" {
  description = "Base URL of the CDN: the web page at /, renditions at /r/..., GIFs at /gifs/...."
  value       = module.stack.cdn_url
}

output "api_key" {
  description = "API key for the write operations (x-api-key header); null when api_key_required is false. Read it with `terraform output -raw api_key`."
  value       = module.stack.api_key
  sensitive   = true
}

output "originals_bucket_name" {
  description = "Bucket of the original images (every version kept)."
  value       = module.stack.originals_bucket_name
}

output "replica_bucket_name" {
  description = "Replica of the originals bucket in replica_region."
  value       = module.stack.replica_bucket_name
}

output "renditions_bucket_name" {
  description = "Bucket of the resized renditions and the GIFs, served by the CDN."
  value       = module.stack.renditions_bucket_name
}

output "uploads_bucket_name" {
  description = "Bucket direct uploads land in before they become images."
  value       = module.stack.uploads_bucket_name
}

output "site_bucket_name" {
  description = "Bucket of the web page served by the CDN."
  value       = module.stack.site_bucket_name
}

output "table_name" {
  description = "DynamoDB table of the image metadata."
  value       = module.stack.table_name
}

output "function_names" {
  description = "Name of every Lambda function, by role (api, resize, uploads, effect-<name>)."
  value       = module.stack.function_names
}

output "cdn_distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = module.stack.cdn_distribution_id
}

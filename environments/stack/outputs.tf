output "api_url" {
  description = "Base URL of the API (https://<id>.execute-api.<region>.amazonaws.com/<stage>)."
  value       = module.api.stage_invoke_url
}

output "cdn_url" {
  description = "Base URL of the CDN: the web page at /, renditions at /r/..., GIFs at /gifs/...."
  value       = local.cdn_base_url
}

output "api_key" {
  description = "API key for the write operations (x-api-key header); null when api_key_required is false. Read it with `terraform output -raw api_key`."
  value       = module.api.api_key_value
  sensitive   = true
}

output "originals_bucket_name" {
  description = "Bucket of the original images (every version kept)."
  value       = module.originals.bucket_name
}

output "replica_bucket_name" {
  description = "Replica of the originals bucket in replica_region."
  value       = module.originals.replica_bucket_name
}

output "renditions_bucket_name" {
  description = "Bucket of the resized renditions and the GIFs, served by the CDN."
  value       = module.renditions.bucket_name
}

output "uploads_bucket_name" {
  description = "Bucket direct uploads land in before they become images."
  value       = module.uploads.bucket_name
}

output "site_bucket_name" {
  description = "Bucket of the web page served by the CDN."
  value       = module.cdn.site_bucket_name
}

output "table_name" {
  description = "DynamoDB table of the image metadata."
  value       = module.table.table_name
}

output "function_names" {
  description = "Name of every Lambda function, by role (api, resize, uploads, effect-<name>)."
  value = merge(
    { for key, f in module.function : key => f.function_name },
    { resize = module.resize.function_name },
  )
}

output "cdn_distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = module.cdn.distribution_id
}

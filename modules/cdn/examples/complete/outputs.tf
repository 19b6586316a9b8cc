output "cdn_url" {
  description = "Base URL of the CDN."
  value       = module.cdn.cdn_base_url
}

output "site_bucket_name" {
  description = "Where the web page goes."
  value       = module.cdn.site_bucket_name
}

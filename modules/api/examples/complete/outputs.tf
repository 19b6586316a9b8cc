output "api_url" {
  description = "Base URL of the API."
  value       = module.api.stage_invoke_url
}

output "api_key" {
  description = "The key for the write operations (x-api-key)."
  value       = module.api.api_key_value
  sensitive   = true
}

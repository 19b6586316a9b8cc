output "function_name" {
  description = "Name of the function."
  value       = module.resize.function_name
}

output "role_name" {
  description = "Name of its role (function name and region)."
  value       = module.resize.role_name
}

output "function_url" {
  description = "Its function URL (AWS_IAM auth)."
  value       = module.resize.function_url
}

output "table_name" {
  description = "Name of the table."
  value       = module.metadata.table_name
}

output "read_policy_json" {
  description = "A policy to give a reading function."
  value       = data.aws_iam_policy_document.read_images.json
}

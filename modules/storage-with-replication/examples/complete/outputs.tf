output "bucket_name" {
  description = "Name of the main bucket."
  value       = module.originals.bucket_name
}

output "replica_bucket_region" {
  description = "Region of the replica."
  value       = module.originals.replica_bucket_region
}

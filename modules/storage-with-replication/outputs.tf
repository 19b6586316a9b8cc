output "bucket_name" {
  description = "Name of the originals bucket."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the originals bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_region" {
  description = "Region of the originals bucket (the default provider's region)."
  value       = aws_s3_bucket.this.region
}

output "replica_bucket_name" {
  description = "Name of the replica bucket."
  value       = aws_s3_bucket.replica.bucket
}

output "replica_bucket_arn" {
  description = "ARN of the replica bucket."
  value       = aws_s3_bucket.replica.arn
}

output "replica_bucket_region" {
  description = "Region of the replica bucket (the aws.replica provider's region)."
  value       = aws_s3_bucket.replica.region
}

output "replication_role_arn" {
  description = "ARN of the IAM role S3 assumes to replicate."
  value       = aws_iam_role.replication.arn
}

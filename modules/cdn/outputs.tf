output "distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.arn
}

output "distribution_domain_name" {
  description = "CloudFront domain name of the distribution (dxxxx.cloudfront.net)."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_hosted_zone_id" {
  description = "Route 53 zone ID of CloudFront, for alias records made outside the module."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "site_bucket_name" {
  description = "Name of the bucket the web page is uploaded to."
  value       = aws_s3_bucket.site.bucket
}

output "site_bucket_arn" {
  description = "ARN of the web page's bucket."
  value       = aws_s3_bucket.site.arn
}

output "renditions_bucket_policy_json" {
  description = "Bucket policy statements the renditions bucket must carry: s3:GetObject on r/* and gifs/* for this distribution only (AWS:SourceArn). Pass it to the renditions bucket's module."
  value       = data.aws_iam_policy_document.renditions.json
}

output "cdn_base_url" {
  description = "Base URL of the CDN without a trailing slash: https:// and the first alias, or the CloudFront domain without aliases."
  value       = "https://${length(var.aliases) > 0 ? var.aliases[0] : aws_cloudfront_distribution.this.domain_name}"
}

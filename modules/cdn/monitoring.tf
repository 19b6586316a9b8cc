# CloudFront's additional metrics: the cache hit rate, origin latency and the error rates per
# status code (401, 403, 404, 502, 503, 504), in CloudWatch's us-east-1 like the default ones.
# Charged per metric per distribution; off unless asked for.
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/viewing-cloudfront-metrics.html#monitoring-console.distributions-additional
# https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateMonitoringSubscription.html
resource "aws_cloudfront_monitoring_subscription" "this" {
  count = var.additional_metrics_enabled ? 1 : 0

  distribution_id = aws_cloudfront_distribution.this.id

  monitoring_subscription {
    realtime_metrics_subscription_config {
      realtime_metrics_subscription_status = "Enabled"
    }
  }
}

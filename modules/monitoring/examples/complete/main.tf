provider "aws" {
  region = "eu-west-1"
}

# CloudFront's metrics, so the CDN's alarm, are in us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

# Unencrypted: CloudWatch cannot publish to a topic under the AWS managed key alias/aws/sns (its
# key policy cannot be changed to let cloudwatch.amazonaws.com use it); a customer managed key
# whose policy allows CloudWatch works.
resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:See above: alarms cannot publish to an alias/aws/sns topic.
  name = "imgsvc-example-alarms"
}

module "monitoring" {
  source = "../../"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name              = "imgsvc-example"
  metrics_namespace = "imgsvc"
  api               = { name = "imgsvc-example-api", stage = "v1" }
  functions = {
    api         = "imgsvc-example-api"
    resize      = "imgsvc-example-resize"
    uploads     = "imgsvc-example-uploads"
    effect-zoom = "imgsvc-example-effect-zoom"
  }
  alarmed_functions = ["api", "resize"]
  cdn               = { distribution_id = "E2EXAMPLE12345" }
  queues = {
    uploads-uploads = { name = "imgsvc-example-uploads-uploads", dlq_name = "imgsvc-example-uploads-uploads-dlq" }
    originals-zoom  = { name = "imgsvc-example-originals-zoom", dlq_name = "imgsvc-example-originals-zoom-dlq" }
  }
  alarm_topic_arn = aws_sns_topic.alarms.arn
  thresholds = {
    api_5xx_rate_percent       = 2
    oldest_message_age_seconds = 600
  }
}

output "dashboard_name" {
  value = module.monitoring.dashboard_name
}

output "alarm_names" {
  value = module.monitoring.alarm_names
}

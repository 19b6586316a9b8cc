terraform {
  # 1.9: validations that refer to other variables.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x: aws_cloudwatch_metric_alarm's metric_query with return_data.
      version = ">= 5.0"
      # CloudFront publishes its metrics in us-east-1 only: the CDN's alarm lives there.
      configuration_aliases = [aws.us_east_1]
    }
  }
}

# The additional metrics switch (modules/monitoring shows them).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_resource "aws_cloudfront_distribution" {
    defaults = {
      id             = "E2QWRUHEXAMPLE"
      arn            = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE"
      domain_name    = "d111111abcdef8.cloudfront.net"
      hosted_zone_id = "Z2FDTNDATAQYW2"
    }
  }

  mock_resource "aws_cloudfront_function" {
    defaults = {
      arn = "arn:aws:cloudfront::123456789012:function/imgsvc-test-rendition-format"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn                         = "arn:aws:s3:::imgsvc-test-site-20250101"
      bucket                      = "imgsvc-test-site-20250101"
      bucket_regional_domain_name = "imgsvc-test-site-20250101.s3.eu-west-1.amazonaws.com"
    }
  }
}

variables {
  name = "imgsvc-test"
  renditions_bucket = {
    name                 = "imgsvc-test-renditions"
    arn                  = "arn:aws:s3:::imgsvc-test-renditions"
    regional_domain_name = "imgsvc-test-renditions.s3.eu-west-1.amazonaws.com"
  }
  resize_function = {
    function_name = "imgsvc-test-resize"
    function_url  = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/"
  }
  wait_for_deployment = false
}


run "additional_metrics_are_off_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudfront_monitoring_subscription.this) == 0
    error_message = "Additional metrics are charged: off unless asked for."
  }
}

run "additional_metrics_subscribe_the_distribution" {
  # apply (mocked): the distribution's id is known only after it exists.
  command = apply

  variables {
    additional_metrics_enabled = true
  }

  assert {
    condition     = aws_cloudfront_monitoring_subscription.this[0].distribution_id == "E2QWRUHEXAMPLE"
    error_message = "The subscription must be on this distribution."
  }

  assert {
    condition     = one(one(aws_cloudfront_monitoring_subscription.this[0].monitoring_subscription).realtime_metrics_subscription_config).realtime_metrics_subscription_status == "Enabled"
    error_message = "The subscription must enable the additional metrics."
  }
}

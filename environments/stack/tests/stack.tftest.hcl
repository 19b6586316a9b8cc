# The stack's own validations, against mocked AWS providers and the stand-in Lambda artifacts
# in tests/fixtures/dist (a plan only hashes them). What its settings do to the resources is
# checked on plans of the stage roots against moto (tests/terraform/test_environments.py): a
# test here can only see the stack's outputs, not the resources of the modules it calls.

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

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
}

mock_provider "aws" {
  alias = "replica"

  mock_data "aws_region" {
    defaults = {
      name = "eu-central-1"
    }
  }
}

mock_provider "aws" {
  alias = "us_east_1"
}

variables {
  name_prefix    = "imgsvc-test"
  region         = "eu-west-1"
  replica_region = "eu-central-1"
  artifacts_dir  = "tests/fixtures/dist"
}

run "plans_with_the_defaults" {
  command = plan
}

run "plans_with_every_per_deployment_value" {
  command = plan

  variables {
    alarm_topic_arn     = "arn:aws:sns:eu-west-1:123456789012:imgsvc-test-alarms"
    cdn_alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:imgsvc-test-alarms"
    alarm_thresholds    = { function_errors = 2, oldest_message_age_seconds = 300 }
    limits              = { max_pixels = 20000000, max_body_bytes = 3000000, max_upload_bytes = 104857600, upload_url_expires = 900 }
    cdn_domain = {
      aliases             = ["images.example.com", "*.img.example.com"]
      acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
      route53_zone_id     = "Z0123456789ABCDEFGHIJ"
    }
    cdn_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/imgsvc/0123abcd-0123-abcd-0123-0123456789ab"
    cdn_access_logs = { bucket_domain_name = "imgsvc-logs.s3.amazonaws.com", prefix = "cdn/test/" }
  }

  assert {
    condition     = output.cdn_url == "https://images.example.com"
    error_message = "With a domain of its own, the CDN's URL is its first alias."
  }

  # The page sends files over the API's body limit straight to storage: it must know the stage's.
  assert {
    condition     = local.web_config.maxApiBytes == 3000000
    error_message = "config.js must carry the stage's limits.max_body_bytes as maxApiBytes."
  }
}

run "rejects_an_alarm_topic_in_another_region" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:imgsvc-test-alarms"
  }

  expect_failures = [var.alarm_topic_arn]
}

run "rejects_a_cdn_alarm_topic_outside_us_east_1" {
  command = plan

  variables {
    cdn_alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:imgsvc-test-alarms"
  }

  expect_failures = [var.cdn_alarm_topic_arn]
}

run "rejects_a_fifo_alarm_topic" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:imgsvc-test-alarms.fifo"
  }

  expect_failures = [var.alarm_topic_arn]
}

run "rejects_a_limit_that_is_not_a_whole_number" {
  command = plan

  variables {
    limits = { max_pixels = 0.5 }
  }

  expect_failures = [var.limits]
}

# A Lambda event holds 6 MB, about 4.5 MB of image once base64-encoded.
run "rejects_a_body_limit_over_what_a_lambda_event_holds" {
  command = plan

  variables {
    limits = { max_body_bytes = 6000000 }
  }

  expect_failures = [var.limits]
}

run "rejects_an_upload_limit_the_uploads_function_cannot_hold" {
  command = plan

  variables {
    limits = { max_upload_bytes = 2147483648 } # 2 GiB, with 1024 MB of memory
  }

  expect_failures = [var.limits]
}

run "rejects_a_presigned_form_valid_longer_than_sigv4_allows" {
  command = plan

  variables {
    limits = { upload_url_expires = 700000 }
  }

  expect_failures = [var.limits]
}

# The first alias is the CDN's URL (the web page's, the renditions'): it must be one name.
run "rejects_a_wildcard_as_the_first_cdn_alias" {
  command = plan

  variables {
    cdn_domain = {
      aliases             = ["*.example.com"]
      acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    }
  }

  expect_failures = [var.cdn_domain]
}

run "rejects_a_cdn_domain_without_names" {
  command = plan

  variables {
    cdn_domain = {
      aliases             = []
      acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    }
  }

  expect_failures = [var.cdn_domain]
}

run "rejects_a_cdn_certificate_outside_us_east_1" {
  command = plan

  variables {
    cdn_domain = {
      aliases             = ["images.example.com"]
      acm_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    }
  }

  expect_failures = [var.cdn_domain]
}

run "rejects_a_regional_web_acl_and_a_website_endpoint_for_logs" {
  command = plan

  variables {
    cdn_web_acl_arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/imgsvc/0123abcd-0123-abcd-0123-0123456789ab"
    cdn_access_logs = { bucket_domain_name = "imgsvc-logs.s3-website-eu-west-1.amazonaws.com" }
  }

  expect_failures = [var.cdn_web_acl_arn, var.cdn_access_logs]
}

run "plans_with_origin_shield_in_the_stages_region" {
  command = plan

  variables {
    cdn_origin_shield = { enabled = true }
  }
}

run "rejects_origin_shield_in_a_region_without_one" {
  command = plan

  # The stage in another region: so is its provider.
  override_data {
    target = data.aws_region.current
    values = { name = "eu-north-1" }
  }

  variables {
    region            = "eu-north-1"
    cdn_origin_shield = { enabled = true }
  }

  expect_failures = [var.cdn_origin_shield]
}

run "plans_with_origin_shield_in_a_nearby_region" {
  command = plan

  # The stage in another region: so is its provider.
  override_data {
    target = data.aws_region.current
    values = { name = "eu-north-1" }
  }

  variables {
    region            = "eu-north-1"
    cdn_origin_shield = { enabled = true, region = "eu-central-1" }
  }
}

run "rejects_a_queue_consumer_cap_an_event_source_refuses" {
  command = plan

  variables {
    functions = { effects = { maximum_concurrency = 1 } }
  }

  expect_failures = [var.functions]
}

run "rejects_a_rendition_side_that_is_not_a_whole_pixel_count" {
  command = plan

  variables {
    rendition_sides = [256, 333.5]
  }

  expect_failures = [var.rendition_sides]
}

run "rejects_no_rendition_sides" {
  command = plan

  variables {
    rendition_sides = []
  }

  expect_failures = [var.rendition_sides]
}

# The queue ARNs in the functions' policies are the provider's region's; a region variable that
# names another would put a wrong region into the functions' environment and the alarm check.
run "rejects_a_region_other_than_the_providers" {
  command = plan

  variables {
    region = "eu-west-2"
  }

  expect_failures = [data.aws_region.current]
}

run "rejects_a_replica_region_other_than_the_replica_providers" {
  command = plan

  variables {
    replica_region = "us-east-2"
  }

  expect_failures = [data.aws_region.replica]
}

# Three effects' reservations of 250 and the api's 200: 950 of 1000, 50 left unreserved; each
# alone is allowed.
run "rejects_reservations_leaving_fewer_than_100_unreserved" {
  command = plan

  variables {
    functions = {
      api     = { reserved_concurrent_executions = 200 }
      effects = { reserved_concurrent_executions = 250 }
    }
  }

  expect_failures = [var.functions]
}

run "accepts_reservations_leaving_100_unreserved" {
  command = plan

  variables {
    lambda_concurrency_limit = 400 # 100 + 60 + 20 + 3 x 40 = 300 reserved, 100 left
    functions = {
      api     = { reserved_concurrent_executions = 100 }
      resize  = { reserved_concurrent_executions = 60 }
      uploads = { reserved_concurrent_executions = 20 }
      effects = { reserved_concurrent_executions = 40 }
    }
  }
}

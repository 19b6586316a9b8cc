# Properties of the cdn module against a mocked AWS provider. The CloudFront Function's own
# behaviour is tested with node (tests/rendition-format.test.js).

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

run "every_s3_origin_is_read_through_origin_access_control" {
  command = apply

  assert {
    condition = alltrue([
      for o in aws_cloudfront_distribution.this.origin :
      o.origin_access_control_id == aws_cloudfront_origin_access_control.s3.id
      if endswith(o.domain_name, ".amazonaws.com")
    ])
    error_message = "Every S3 origin must use the S3 origin access control."
  }

  assert {
    condition     = length([for o in aws_cloudfront_distribution.this.origin : o if endswith(o.domain_name, ".amazonaws.com")]) == 2
    error_message = "The site and renditions buckets must both be origins."
  }

  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : length(o.s3_origin_config) == 0])
    error_message = "No origin may use a legacy origin access identity."
  }

  assert {
    condition = (
      aws_cloudfront_origin_access_control.s3.origin_access_control_origin_type == "s3" &&
      aws_cloudfront_origin_access_control.s3.signing_behavior == "always" &&
      aws_cloudfront_origin_access_control.s3.signing_protocol == "sigv4"
    )
    error_message = "The S3 origin access control must sign every request with SigV4."
  }

  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : !strcontains(o.domain_name, "s3-website")])
    error_message = "No S3 website endpoint: buckets stay private."
  }
}

run "renditions_fail_over_to_the_resize_function_url" {
  command = apply

  assert {
    condition = alltrue([
      for g in aws_cloudfront_distribution.this.origin_group :
      contains(g.failover_criteria[0].status_codes, 403) && contains(g.failover_criteria[0].status_codes, 404)
    ]) && length(aws_cloudfront_distribution.this.origin_group) == 1
    error_message = "The renditions origin group must fail over on 403 and 404 (a missing object)."
  }

  assert {
    condition     = [for m in one(aws_cloudfront_distribution.this.origin_group).member : m.origin_id] == ["renditions", "resize"]
    error_message = "S3 must be the primary and the resize function the failover."
  }

  assert {
    condition = one([
      for o in aws_cloudfront_distribution.this.origin : o if o.origin_id == "resize"
    ]).domain_name == "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws"
    error_message = "The failover origin must be the function URL's host."
  }

  assert {
    condition = one([
      for o in aws_cloudfront_distribution.this.origin : o if o.origin_id == "resize"
    ]).origin_access_control_id == aws_cloudfront_origin_access_control.lambda.id
    error_message = "CloudFront must sign requests to the function URL (lambda origin access control)."
  }

  assert {
    condition     = aws_cloudfront_origin_access_control.lambda.origin_access_control_origin_type == "lambda"
    error_message = "The function URL's origin access control must be of type lambda."
  }

  assert {
    condition = one([
      for o in aws_cloudfront_distribution.this.origin : o if o.origin_id == "resize"
    ]).custom_origin_config[0].origin_protocol_policy == "https-only"
    error_message = "The function URL must be reached over HTTPS only."
  }

  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.target_origin_id if b.path_pattern == "/r/*"
    ]) == "renditions-or-resize"
    error_message = "/r/* must be served by the origin group."
  }

  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.allowed_methods if b.path_pattern == "/r/*"
    ]) == toset(["GET", "HEAD"])
    error_message = "An origin group serves reads only: GET and HEAD."
  }

  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.target_origin_id if b.path_pattern == "/gifs/*"
    ]) == "renditions"
    error_message = "/gifs/* must be served by the renditions bucket only."
  }

  assert {
    condition     = aws_cloudfront_distribution.this.default_cache_behavior[0].target_origin_id == "site" && aws_cloudfront_distribution.this.default_root_object == "index.html"
    error_message = "Everything else is the web page from the site bucket, index.html at the root."
  }
}

run "cloudfront_may_invoke_the_resize_function_url_for_this_distribution_only" {
  command = apply

  assert {
    condition = (
      aws_lambda_permission.resize_url.action == "lambda:InvokeFunctionUrl" &&
      aws_lambda_permission.resize_url.function_url_auth_type == "AWS_IAM" &&
      aws_lambda_permission.resize_invoke.action == "lambda:InvokeFunction"
    )
    error_message = "A function URL behind OAC needs lambda:InvokeFunctionUrl (AWS_IAM) and lambda:InvokeFunction."
  }

  assert {
    condition = alltrue([
      for p in [aws_lambda_permission.resize_url, aws_lambda_permission.resize_invoke] :
      p.principal == "cloudfront.amazonaws.com" && p.source_arn == aws_cloudfront_distribution.this.arn && p.function_name == "imgsvc-test-resize"
    ])
    error_message = "Only this distribution may invoke the resize function."
  }
}

run "rendition_format_is_negotiated_at_the_viewer_request" {
  command = plan

  assert {
    condition = alltrue([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior :
      length(b.function_association) == 1 && one(b.function_association).event_type == "viewer-request"
      if b.path_pattern == "/r/*"
    ])
    error_message = "/r/* must run the format function at viewer request."
  }

  assert {
    condition     = aws_cloudfront_function.rendition_format.runtime == "cloudfront-js-2.0" && aws_cloudfront_function.rendition_format.publish
    error_message = "The function must be published on the cloudfront-js-2.0 runtime."
  }

  assert {
    condition     = strcontains(aws_cloudfront_function.rendition_format.code, "var AVIF_ENABLED = \"false\" === \"true\";")
    error_message = "AVIF must be off by default."
  }

  assert {
    condition     = !strcontains(aws_cloudfront_function.rendition_format.code, "{avif_enabled}")
    error_message = "The function's template must be fully rendered."
  }

  assert {
    condition = alltrue([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior :
      length(b.function_association) == 0 if b.path_pattern != "/r/*"
    ])
    error_message = "Only /r/* runs the format function."
  }
}

run "avif_switch_reaches_the_function" {
  command = plan

  variables {
    avif_enabled = true
  }

  assert {
    condition     = strcontains(aws_cloudfront_function.rendition_format.code, "var AVIF_ENABLED = \"true\" === \"true\";")
    error_message = "avif_enabled must turn AVIF on in the function."
  }
}

run "cache_keys_and_ttls" {
  command = plan

  assert {
    condition = (
      aws_cloudfront_cache_policy.renditions.default_ttl == 1209600 &&
      aws_cloudfront_cache_policy.renditions.max_ttl >= 1209600 &&
      aws_cloudfront_cache_policy.renditions.min_ttl == 0
    )
    error_message = "Renditions: long TTL, and the origin's max-age=1209600 must fit between min and max."
  }

  assert {
    condition = (
      one(aws_cloudfront_cache_policy.renditions.parameters_in_cache_key_and_forwarded_to_origin).headers_config[0].header_behavior == "none" &&
      one(aws_cloudfront_cache_policy.renditions.parameters_in_cache_key_and_forwarded_to_origin).query_strings_config[0].query_string_behavior == "none" &&
      one(aws_cloudfront_cache_policy.renditions.parameters_in_cache_key_and_forwarded_to_origin).cookies_config[0].cookie_behavior == "none"
    )
    error_message = "The renditions cache key must be the path alone (the format is in it)."
  }

  assert {
    condition     = aws_cloudfront_cache_policy.site.default_ttl <= 600 && aws_cloudfront_cache_policy.site.max_ttl <= 3600
    error_message = "The web page must have a short TTL."
  }

  assert {
    condition = alltrue([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.cache_policy_id == aws_cloudfront_cache_policy.renditions.id
    ]) && aws_cloudfront_distribution.this.default_cache_behavior[0].cache_policy_id == aws_cloudfront_cache_policy.site.id
    error_message = "Each behavior must use its cache policy."
  }
}

run "errors_are_cached_for_seconds_and_never_rewritten" {
  command = plan

  assert {
    condition     = toset([for e in aws_cloudfront_distribution.this.custom_error_response : e.error_code]) == toset([403, 404, 500, 502, 503, 504])
    error_message = "403, 404, 500, 502, 503 and 504 need a custom error caching TTL."
  }

  assert {
    condition     = alltrue([for e in aws_cloudfront_distribution.this.custom_error_response : e.error_caching_min_ttl <= 10])
    error_message = "Errors must be cached 10 seconds at most."
  }

  assert {
    condition = alltrue([
      for e in aws_cloudfront_distribution.this.custom_error_response :
      e.response_page_path == null && e.response_code == null
    ])
    error_message = "An error must stay the origin's error, not become a page or another status."
  }
}

run "https_everywhere_with_security_headers" {
  command = plan

  assert {
    condition = alltrue(concat(
      [for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.viewer_protocol_policy == "redirect-to-https"],
      [aws_cloudfront_distribution.this.default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https"],
    ))
    error_message = "Every behavior must redirect HTTP to HTTPS."
  }

  assert {
    condition = alltrue(concat(
      [for b in aws_cloudfront_distribution.this.ordered_cache_behavior : contains([for p in aws_cloudfront_response_headers_policy.this : p.id], b.response_headers_policy_id)],
      [aws_cloudfront_distribution.this.default_cache_behavior[0].response_headers_policy_id == aws_cloudfront_response_headers_policy.this["security"].id],
    ))
    error_message = "Every behavior must add the security headers."
  }

  assert {
    condition = alltrue([
      for p in aws_cloudfront_response_headers_policy.this :
      one(p.security_headers_config).strict_transport_security[0].access_control_max_age_sec >= 31536000 &&
      one(p.security_headers_config).content_type_options[0].override &&
      one(p.security_headers_config).frame_options[0].frame_option == "DENY"
    ])
    error_message = "HSTS (a year or more), nosniff and frame-options DENY are required on every response."
  }

  assert {
    condition = one([
      for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.response_headers_policy_id if b.path_pattern == "/r/*"
    ]) == aws_cloudfront_response_headers_policy.this["renditions"].id
    error_message = "Renditions must carry Vary: Accept (the renditions headers policy)."
  }

  assert {
    condition = anytrue([
      for item in one(aws_cloudfront_response_headers_policy.this["renditions"].custom_headers_config).items :
      item.header == "Vary" && item.value == "Accept"
    ])
    error_message = "The renditions headers policy must send Vary: Accept."
  }

  assert {
    condition     = aws_cloudfront_distribution.this.viewer_certificate[0].cloudfront_default_certificate
    error_message = "Without a certificate the default CloudFront certificate is used."
  }
}

run "site_bucket_is_private_versioned_encrypted_and_tls_only" {
  command = apply

  assert {
    condition = (
      aws_s3_bucket_public_access_block.site.block_public_acls && aws_s3_bucket_public_access_block.site.block_public_policy &&
      aws_s3_bucket_public_access_block.site.ignore_public_acls && aws_s3_bucket_public_access_block.site.restrict_public_buckets
    )
    error_message = "The site bucket must block every kind of public access."
  }

  assert {
    condition     = aws_s3_bucket_versioning.site.versioning_configuration[0].status == "Enabled"
    error_message = "The site bucket must be versioned."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.site.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "The site bucket must be encrypted."
  }

  assert {
    condition     = aws_s3_bucket.site.bucket_prefix == "imgsvc-test-site-" && !aws_s3_bucket.site.force_destroy
    error_message = "Without a name the bucket gets a unique name from the CDN name, and keeps its objects on destroy."
  }

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.site.statement : s if s.sid == "DenyInsecureTransport"
    ]).effect == "Deny"
    error_message = "The site bucket must refuse requests without TLS."
  }

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.site.statement : one(s.condition).values if s.sid == "CloudFrontReadsThePage"
    ]) == tolist([aws_cloudfront_distribution.this.arn])
    error_message = "Only this distribution may read the page."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.site.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be off on the site bucket."
  }
}

run "renditions_policy_grants_this_distribution_read_only" {
  command = apply

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.renditions.statement :
      s.actions == toset(["s3:GetObject"]) &&
      s.resources == toset(["arn:aws:s3:::imgsvc-test-renditions/r/*", "arn:aws:s3:::imgsvc-test-renditions/gifs/*"]) &&
      one(s.condition).variable == "AWS:SourceArn" && one(s.condition).values == tolist([aws_cloudfront_distribution.this.arn]) &&
      one(s.principals).identifiers == toset(["cloudfront.amazonaws.com"])
    ])
    error_message = "The renditions grant must be s3:GetObject on r/* and gifs/* for this distribution only."
  }

  assert {
    condition     = output.renditions_bucket_policy_json == data.aws_iam_policy_document.renditions.json
    error_message = "renditions_bucket_policy_json must be the grant's JSON."
  }

  assert {
    condition     = output.cdn_base_url == "https://d111111abcdef8.cloudfront.net"
    error_message = "Without aliases the base URL is the CloudFront domain."
  }
}

run "aliases_with_certificate_and_dns_records" {
  command = apply

  variables {
    aliases             = ["images.example.com", "img.example.com"]
    acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    route53_zone_id     = "Z0123456789ABCDEFGHIJ"
  }

  assert {
    condition = (
      aws_cloudfront_distribution.this.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021" &&
      aws_cloudfront_distribution.this.viewer_certificate[0].ssl_support_method == "sni-only" &&
      !aws_cloudfront_distribution.this.viewer_certificate[0].cloudfront_default_certificate
    )
    error_message = "With a certificate: SNI and TLS 1.2 at least."
  }

  assert {
    condition     = toset(keys(aws_route53_record.this)) == toset(["images.example.com A", "images.example.com AAAA", "img.example.com A", "img.example.com AAAA"])
    error_message = "Every alias needs an A and an AAAA record."
  }

  assert {
    condition     = alltrue([for r in aws_route53_record.this : one(r.alias).name == "d111111abcdef8.cloudfront.net" && one(r.alias).zone_id == "Z2FDTNDATAQYW2"])
    error_message = "The records must alias the distribution."
  }

  assert {
    condition     = output.cdn_base_url == "https://images.example.com"
    error_message = "With aliases the base URL is the first alias."
  }
}

run "optional_logging_and_waf" {
  command = plan

  variables {
    access_logs_bucket_domain_name = "imgsvc-logs.s3.amazonaws.com"
    web_acl_arn                    = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/imgsvc/0123abcd-0123-abcd-0123-0123456789ab"
  }

  assert {
    condition     = one(aws_cloudfront_distribution.this.logging_config).bucket == "imgsvc-logs.s3.amazonaws.com"
    error_message = "Access logs must go to the given bucket."
  }

  assert {
    condition     = aws_cloudfront_distribution.this.web_acl_id == "arn:aws:wafv2:us-east-1:123456789012:global/webacl/imgsvc/0123abcd-0123-abcd-0123-0123456789ab"
    error_message = "The web ACL must be attached."
  }
}

run "defaults_price_class_and_wait" {
  command = plan

  variables {
    wait_for_deployment = true
  }

  assert {
    condition     = aws_cloudfront_distribution.this.price_class == "PriceClass_100" && aws_cloudfront_distribution.this.wait_for_deployment
    error_message = "PriceClass_100 by default, and the variable decides whether to wait."
  }

  assert {
    condition     = length(aws_cloudfront_distribution.this.logging_config) == 0 && length(aws_route53_record.this) == 0
    error_message = "No access logs or DNS records unless asked for."
  }
}

run "rejects_aliases_without_certificate" {
  command = plan

  variables {
    aliases = ["images.example.com"]
  }

  expect_failures = [var.aliases]
}

run "rejects_a_certificate_outside_us_east_1" {
  command = plan

  variables {
    aliases             = ["images.example.com"]
    acm_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
  }

  expect_failures = [var.acm_certificate_arn]
}

run "rejects_dns_records_without_aliases" {
  command = plan

  variables {
    route53_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  expect_failures = [var.route53_zone_id]
}

run "rejects_an_unknown_price_class" {
  command = plan

  variables {
    price_class = "PriceClass_50"
  }

  expect_failures = [var.price_class]
}

run "rejects_long_error_caching" {
  command = plan

  variables {
    error_caching_min_ttl = 300
  }

  expect_failures = [var.error_caching_min_ttl]
}

run "rejects_a_website_endpoint_for_renditions" {
  command = plan

  variables {
    renditions_bucket = {
      name                 = "imgsvc-test-renditions"
      arn                  = "arn:aws:s3:::imgsvc-test-renditions"
      regional_domain_name = "imgsvc-test-renditions.s3-website-eu-west-1.amazonaws.com"
    }
  }

  expect_failures = [var.renditions_bucket]
}

run "rejects_a_resize_url_that_is_not_a_function_url" {
  command = plan

  variables {
    resize_function = {
      function_name = "imgsvc-test-resize"
      function_url  = "https://example.com/resize"
    }
  }

  expect_failures = [var.resize_function]
}

run "rejects_inverted_ttls" {
  command = plan

  variables {
    renditions_ttl = { default = 100, max = 10 }
  }

  expect_failures = [var.renditions_ttl]
}

# The resize function's 302 for a rendition too large to return inline points at the same /r/
# path with Cache-Control: no-store; a minimum TTL above 0 would cache it (a redirect loop).
run "rejects_a_minimum_ttl_that_would_cache_the_resize_redirect" {
  command = plan

  variables {
    renditions_ttl = { min = 60 }
  }

  expect_failures = [var.renditions_ttl]
}

run "rejects_an_uppercase_name" {
  command = plan

  variables {
    name = "ImgSvc"
  }

  expect_failures = [var.name]
}

run "origin_shield_is_off_by_default" {
  command = plan

  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : length(o.origin_shield) == 0])
    error_message = "No origin may have Origin Shield unless origin_shield.enabled is set (it adds a charge per request)."
  }
}

run "origin_shield_fronts_the_renditions_bucket_and_the_resize_function" {
  command = plan

  variables {
    origin_shield = { enabled = true, region = "eu-west-1" }
  }

  assert {
    condition = alltrue([
      for o in aws_cloudfront_distribution.this.origin :
      length(o.origin_shield) == 1 && o.origin_shield[0].enabled && o.origin_shield[0].origin_shield_region == "eu-west-1"
      if contains(["renditions", "resize"], o.origin_id)
    ]) && length([for o in aws_cloudfront_distribution.this.origin : o if contains(["renditions", "resize"], o.origin_id)]) == 2
    error_message = "Both members of the renditions origin group must go through Origin Shield in the region asked for."
  }

  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : length(o.origin_shield) == 0 if o.origin_id == "site"])
    error_message = "The web page's origin needs no Origin Shield."
  }
}

run "origin_shield_needs_a_region" {
  command = plan

  variables {
    origin_shield = { enabled = true }
  }

  expect_failures = [var.origin_shield]
}

run "origin_shield_region_must_be_one_cloudfront_offers" {
  command = plan

  variables {
    # A real region, but CloudFront has no Origin Shield there (the guide points it to eu-central-1).
    origin_shield = { enabled = true, region = "eu-north-1" }
  }

  expect_failures = [var.origin_shield]
}

run "origin_shield_region_is_accepted_while_off" {
  command = plan

  variables {
    origin_shield = { enabled = false, region = "us-east-2" }
  }

  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : length(o.origin_shield) == 0])
    error_message = "origin_shield.enabled = false must leave every origin without Origin Shield, whatever the region."
  }
}

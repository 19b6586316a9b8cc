data "aws_partition" "current" {}

locals {
  site_origin_id       = "site"
  renditions_origin_id = "renditions"
  resize_origin_id     = "resize"
  renditions_group_id  = "renditions-or-resize"

  resize_domain = regex("^https://([^/]+)/?$", var.resize_function.function_url)[0]

  # A rendition missing from S3 is a 403 (CloudFront may not list the bucket) and S3 errors
  # are worth a retry: the resize function makes the rendition and answers instead.
  failover_status_codes = [403, 404, 500, 502, 503, 504]
  error_status_codes    = [403, 404, 500, 502, 503, 504]

  # Origin Shield, when on, sits in front of both members of the renditions group (the bucket and
  # the resize function), so that a miss at every regional edge cache becomes one request to
  # them. The web page's origin goes without: a few small files, cached for minutes.
  origin_shield = var.origin_shield.enabled ? [var.origin_shield.region] : []

  records = var.route53_zone_id == null ? {} : {
    for pair in setproduct(var.aliases, ["A", "AAAA"]) : "${pair[0]} ${pair[1]}" => { name = pair[0], type = pair[1] }
  }
}

# ---------------------------------------------------------------------------------------------
# The web page's bucket: private, read only by this distribution.

resource "aws_s3_bucket" "site" {
  #checkov:skip=CKV_AWS_144:The page is rebuilt from the repository; a cross-region copy adds nothing.
  #checkov:skip=CKV_AWS_18:Reads are logged by CloudFront (access_logs_bucket_domain_name); S3 server access logs would duplicate them.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of the page's files.
  #checkov:skip=CKV_AWS_145:SSE-S3: the files are public web content, and SSE-KMS would need the key policy to trust CloudFront.
  bucket        = var.site_bucket_name
  bucket_prefix = var.site_bucket_name == null ? "${var.name}-site-" : null
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "site" {
  bucket = aws_s3_bucket.site.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  bucket = aws_s3_bucket.site.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.site_noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  # Lifecycle rules on noncurrent versions need versioning on first.
  depends_on = [aws_s3_bucket_versioning.site]
}

data "aws_iam_policy_document" "site" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "CloudFrontReadsThePage"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.site.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = data.aws_iam_policy_document.site.json

  # With BlockPublicPolicy on first, a mistakenly public statement is refused, never applied.
  depends_on = [aws_s3_bucket_public_access_block.site]
}

# ---------------------------------------------------------------------------------------------
# What the renditions bucket must allow: this distribution reads renditions and GIFs, nothing
# else. The environment attaches it through the bucket module.

data "aws_iam_policy_document" "renditions" {
  statement {
    sid     = "CloudFrontReadsRenditions"
    actions = ["s3:GetObject"]
    resources = [
      "${var.renditions_bucket.arn}/r/*",
      "${var.renditions_bucket.arn}/gifs/*",
    ]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# The resize function behind the failover: CloudFront signs requests to its URL (OAC), and a
# function URL needs both permissions.

resource "aws_lambda_permission" "resize_url" {
  statement_id           = "AllowCloudFrontFunctionUrl-${var.name}"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = var.resize_function.function_name
  principal              = "cloudfront.amazonaws.com"
  source_arn             = aws_cloudfront_distribution.this.arn
  function_url_auth_type = "AWS_IAM"
}

resource "aws_lambda_permission" "resize_invoke" {
  statement_id  = "AllowCloudFrontInvoke-${var.name}"
  action        = "lambda:InvokeFunction"
  function_name = var.resize_function.function_name
  principal     = "cloudfront.amazonaws.com"
  source_arn    = aws_cloudfront_distribution.this.arn
}

# ---------------------------------------------------------------------------------------------
# Edge configuration.

resource "aws_cloudfront_origin_access_control" "s3" {
  name                              = "${var.name}-s3"
  description                       = "Signed reads of the ${var.name} buckets."
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_origin_access_control" "lambda" {
  name                              = "${var.name}-lambda"
  description                       = "Signed calls to the ${var.name} resize function URL."
  origin_access_control_origin_type = "lambda"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_function" "rendition_format" {
  name    = "${var.name}-rendition-format"
  runtime = "cloudfront-js-2.0"
  comment = "Puts the accepted image format into /r/ URIs."
  publish = true
  code    = templatefile("${path.module}/functions/rendition-format.js", { avif_enabled = var.avif_enabled })
}

# The format is in the URI (see the function), so nothing from the request but the path is
# part of the key: one cached object per rendition and format.
resource "aws_cloudfront_cache_policy" "renditions" {
  name        = "${var.name}-renditions"
  comment     = "Renditions and GIFs: path only, long TTL, origin Cache-Control honoured."
  min_ttl     = var.renditions_ttl.min
  default_ttl = var.renditions_ttl.default
  max_ttl     = var.renditions_ttl.max

  parameters_in_cache_key_and_forwarded_to_origin {
    # Images do not compress: no Accept-Encoding variants.
    enable_accept_encoding_gzip   = false
    enable_accept_encoding_brotli = false

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

resource "aws_cloudfront_cache_policy" "site" {
  name        = "${var.name}-site"
  comment     = "The web page: short TTL, compressed."
  min_ttl     = var.site_ttl.min
  default_ttl = var.site_ttl.default
  max_ttl     = var.site_ttl.max

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

# The security headers on every response; renditions also say they vary by Accept (the same URL
# gives WebP, AVIF or the original format), which S3 objects cannot say themselves.
resource "aws_cloudfront_response_headers_policy" "this" {
  #checkov:skip=CKV_AWS_259:HSTS is two years with subdomains; preload is left to the domain's owner, who must submit the apex to the preload list.
  for_each = {
    security   = { suffix = "security-headers", vary_accept = false }
    renditions = { suffix = "rendition-headers", vary_accept = true }
  }

  name    = "${var.name}-${each.value.suffix}"
  comment = each.value.vary_accept ? "Security headers and Vary: Accept." : "HSTS, nosniff, frame and referrer policies, CSP."

  dynamic "custom_headers_config" {
    for_each = each.value.vary_accept ? [1] : []

    content {
      items {
        header   = "Vary"
        value    = "Accept"
        override = true
      }
    }
  }

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = false
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }

    dynamic "content_security_policy" {
      for_each = var.content_security_policy == null ? [] : [var.content_security_policy]

      content {
        content_security_policy = content_security_policy.value
        override                = true
      }
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV2_AWS_47:No Java behind this CDN (S3 and a Python Lambda), so no Log4j rule to require; a web ACL is optional (web_acl_arn).
  #checkov:skip=CKV_AWS_374:Images are for every country; geo restriction is a business choice, not a default.
  enabled             = true
  comment             = "Image service ${var.name}: web page, renditions and GIFs"
  aliases             = var.aliases
  default_root_object = "index.html"
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  price_class         = var.price_class
  web_acl_id          = var.web_acl_arn
  wait_for_deployment = var.wait_for_deployment
  tags                = var.tags

  origin {
    origin_id                = local.site_origin_id
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.s3.id
  }

  origin {
    origin_id                = local.renditions_origin_id
    domain_name              = var.renditions_bucket.regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.s3.id

    dynamic "origin_shield" {
      for_each = local.origin_shield
      content {
        enabled              = true
        origin_shield_region = origin_shield.value
      }
    }
  }

  origin {
    origin_id                = local.resize_origin_id
    domain_name              = local.resize_domain
    origin_access_control_id = aws_cloudfront_origin_access_control.lambda.id

    dynamic "origin_shield" {
      for_each = local.origin_shield
      content {
        enabled              = true
        origin_shield_region = origin_shield.value
      }
    }

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
      origin_read_timeout    = var.resize_origin_read_timeout
    }
  }

  origin_group {
    origin_id = local.renditions_group_id

    failover_criteria {
      status_codes = local.failover_status_codes
    }

    member {
      origin_id = local.renditions_origin_id
    }

    member {
      origin_id = local.resize_origin_id
    }
  }

  # Renditions: from S3, or made by the resize function when missing.
  ordered_cache_behavior {
    path_pattern               = "/r/*"
    target_origin_id           = local.renditions_group_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"] # images need no preflight; origin groups allow no writes
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = aws_cloudfront_cache_policy.renditions.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this["renditions"].id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.rendition_format.arn
    }
  }

  # Animated GIFs: made by the effect functions ahead of time, from S3 only.
  ordered_cache_behavior {
    path_pattern               = "/gifs/*"
    target_origin_id           = local.renditions_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = aws_cloudfront_cache_policy.renditions.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this["security"].id
  }

  # The web page.
  default_cache_behavior {
    target_origin_id           = local.site_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.site.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this["security"].id
  }

  # Errors are cached for seconds only: a rendition missing a moment ago must not stay missing,
  # and no error is ever turned into a page or a redirect.
  dynamic "custom_error_response" {
    for_each = local.error_status_codes

    content {
      error_code            = custom_error_response.value
      error_caching_min_ttl = var.error_caching_min_ttl
    }
  }

  dynamic "logging_config" {
    for_each = var.access_logs_bucket_domain_name == null ? [] : [var.access_logs_bucket_domain_name]

    content {
      bucket          = logging_config.value
      prefix          = var.access_logs_prefix
      include_cookies = false
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.acm_certificate_arn == null
    acm_certificate_arn            = var.acm_certificate_arn
    ssl_support_method             = var.acm_certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.acm_certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }
}

resource "aws_route53_record" "this" {
  for_each = local.records

  zone_id = var.route53_zone_id
  name    = each.value.name
  type    = each.value.type

  alias {
    name                   = aws_cloudfront_distribution.this.domain_name
    zone_id                = aws_cloudfront_distribution.this.hosted_zone_id
    evaluate_target_health = false
  }
}

moved {
  from = aws_cloudfront_response_headers_policy.security
  to   = aws_cloudfront_response_headers_policy.this["security"]
}

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  bucket_name = "imgsvc-test-renditions"
}

run "defaults_are_private_encrypted_versioned_and_tls_only" {
  command = apply

  assert {
    condition     = aws_s3_bucket.this.bucket == "imgsvc-test-renditions" && output.bucket_name == "imgsvc-test-renditions"
    error_message = "The bucket must be named as given."
  }

  assert {
    condition     = aws_s3_bucket.this.force_destroy == false
    error_message = "force_destroy must be off by default."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be on by default."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls
      && aws_s3_bucket_public_access_block.this.block_public_policy
      && aws_s3_bucket_public_access_block.this.ignore_public_acls
      && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "All four public access block flags must be set."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "SSE-S3 must be the default encryption."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement :
      s.sid == "DenyInsecureTransport" && s.effect == "Deny" && contains(s.actions, "s3:*")
      && anytrue([for c in s.condition : c.test == "Bool" && c.variable == "aws:SecureTransport" && c.values == tolist(["false"])])
      && toset(s.resources) == toset([aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"])
    ])
    error_message = "The bucket policy must deny every request without TLS, on the bucket and its objects."
  }

  assert {
    condition     = aws_s3_bucket_policy.this.policy == data.aws_iam_policy_document.this.json
    error_message = "The bucket policy must be the merged policy document."
  }

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.status == "Enabled" && try(r.abort_incomplete_multipart_upload[0].days_after_initiation, 0) == 1
    ])
    error_message = "Incomplete multipart uploads must be aborted after 1 day by default."
  }

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      try(r.noncurrent_version_expiration[0].noncurrent_days, 0) == 30 && try(r.expiration[0].expired_object_delete_marker, false)
    ])
    error_message = "Noncurrent versions must expire after 30 days by default, then their delete markers."
  }

  assert {
    condition     = length(aws_s3_bucket_cors_configuration.this) == 0
    error_message = "No CORS configuration unless rules are given."
  }
}

run "uploads_bucket_expires_prefix_and_allows_browser_posts" {
  command = apply

  variables {
    bucket_name      = "imgsvc-test-uploads"
    expiration_rules = [{ prefix = "uploads/", days = 1 }]
    cors_rules = [{
      allowed_methods = ["POST"]
      allowed_origins = ["https://app.example.com", "http://127.0.0.1:8080"]
      allowed_headers = ["*"]
    }]
  }

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.status == "Enabled" && r.filter[0].prefix == "uploads/" && r.expiration[0].days == 1
    ])
    error_message = "Objects under uploads/ must expire after 1 day."
  }

  assert {
    condition = (
      length(aws_s3_bucket_cors_configuration.this[0].cors_rule) == 1
      && one(aws_s3_bucket_cors_configuration.this[0].cors_rule).allowed_methods == toset(["POST"])
      && one(aws_s3_bucket_cors_configuration.this[0].cors_rule).allowed_origins == toset(["https://app.example.com", "http://127.0.0.1:8080"])
      && one(aws_s3_bucket_cors_configuration.this[0].cors_rule).allowed_headers == toset(["*"])
      && one(aws_s3_bucket_cors_configuration.this[0].cors_rule).max_age_seconds == 3000
    )
    error_message = "The CORS rule must allow POST from exactly the configured origins."
  }
}

run "extra_policy_documents_are_merged_with_tls_only" {
  command = apply

  variables {
    policy_documents = [jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "AllowCloudFrontRead"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "s3:GetObject"
        Resource  = "arn:aws:s3:::imgsvc-test-renditions/*"
      }]
    })]
  }

  assert {
    condition     = length(data.aws_iam_policy_document.this.source_policy_documents) == 1 && strcontains(data.aws_iam_policy_document.this.source_policy_documents[0], "AllowCloudFrontRead")
    error_message = "The caller's policy document must be merged into the bucket policy."
  }

  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.this.statement : s.sid == "DenyInsecureTransport"])
    error_message = "The TLS-only statement must stay when extra documents are merged."
  }
}

run "kms_key_switches_to_sse_kms_with_bucket_key" {
  command = apply

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/0b0d8a3c-4a5e-4c43-9f3f-2f5d4a1b2c3d"
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
      && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn
      && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    )
    error_message = "A KMS key must switch the bucket to SSE-KMS with a Bucket Key."
  }
}

run "versioning_off_leaves_a_new_bucket_unversioned_and_drops_noncurrent_rules" {
  command = apply

  variables {
    versioning_enabled = false
  }

  # No PutBucketVersioning at all: "Suspended" would turn a new bucket into a suspended one.
  assert {
    condition     = length(aws_s3_bucket_versioning.this) == 0
    error_message = "versioning_enabled = false must leave a new bucket unversioned, not Suspended."
  }

  assert {
    condition     = alltrue([for r in aws_s3_bucket_lifecycle_configuration.this.rule : length(r.noncurrent_version_expiration) == 0])
    error_message = "No noncurrent-version rule without versioning."
  }
}

run "noncurrent_versions_kept_forever_when_null" {
  command = plan

  variables {
    noncurrent_version_expiration_days = null
  }

  assert {
    condition     = alltrue([for r in aws_s3_bucket_lifecycle_configuration.this.rule : length(r.noncurrent_version_expiration) == 0 && length(r.expiration) == 0])
    error_message = "null must keep noncurrent versions and delete markers forever."
  }
}

run "rejects_bucket_name_with_upper_case" {
  command = plan

  variables {
    bucket_name = "Imgsvc-Test"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_bucket_name_with_dots" {
  command = plan

  variables {
    bucket_name = "imgsvc.test.renditions"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_reserved_bucket_name_suffix" {
  command = plan

  variables {
    bucket_name = "imgsvc-test-s3alias"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_kms_alias_instead_of_key_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/s3"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_policy_document_that_is_not_json" {
  command = plan

  variables {
    policy_documents = ["allow everything"]
  }

  expect_failures = [var.policy_documents]
}

run "rejects_expiration_after_zero_days" {
  command = plan

  variables {
    expiration_rules = [{ prefix = "uploads/", days = 0 }]
  }

  expect_failures = [var.expiration_rules]
}

run "rejects_two_expiration_rules_for_one_prefix" {
  command = plan

  variables {
    expiration_rules = [{ prefix = "uploads/", days = 1 }, { prefix = "uploads/", days = 2 }]
  }

  expect_failures = [var.expiration_rules]
}

run "rejects_noncurrent_expiration_of_zero_days" {
  command = plan

  variables {
    noncurrent_version_expiration_days = 0
  }

  expect_failures = [var.noncurrent_version_expiration_days]
}

run "rejects_abort_multipart_after_zero_days" {
  command = plan

  variables {
    abort_incomplete_multipart_upload_days = 0
  }

  expect_failures = [var.abort_incomplete_multipart_upload_days]
}

run "rejects_unknown_cors_method" {
  command = plan

  variables {
    cors_rules = [{ allowed_methods = ["PATCH"], allowed_origins = ["https://app.example.com"] }]
  }

  expect_failures = [var.cors_rules]
}

run "rejects_cors_origin_with_a_path" {
  command = plan

  variables {
    cors_rules = [{ allowed_methods = ["POST"], allowed_origins = ["https://app.example.com/upload"] }]
  }

  expect_failures = [var.cors_rules]
}

run "rejects_cors_rule_without_origins" {
  command = plan

  variables {
    cors_rules = [{ allowed_methods = ["POST"], allowed_origins = [] }]
  }

  expect_failures = [var.cors_rules]
}

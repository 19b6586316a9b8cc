resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logs need a log bucket per region that this service does not otherwise have; CloudTrail data events are the audit trail.
  #checkov:skip=CKV_AWS_144:These buckets hold derived or transient objects (renditions, GIFs, pending uploads, the static site); only the originals are replicated (modules/storage-with-replication).
  #checkov:skip=CKV2_AWS_62:Event notifications belong to the modules/fanout instance that owns this bucket's notification configuration, if any.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.bucket

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.bucket

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Only when versioning is wanted: a new bucket without this resource stays unversioned (S3's
# default). Setting "Suspended" on a new bucket would make it a suspended one (null version ids
# and a state S3 can never take back to unversioned), and "Disabled" fails on a bucket that was
# ever versioned (provider docs, aws_s3_bucket_versioning: "Updating the value from Enabled or
# Suspended to Disabled will result in errors"). Turning versioning off on an existing bucket
# destroys this resource, and the provider then suspends versioning (same docs: "Deleting this
# resource will either suspend versioning ... or simply remove the resource from state if the
# associated S3 bucket is unversioned").
resource "aws_s3_bucket_versioning" "this" {
  count = var.versioning_enabled ? 1 : 0

  bucket = aws_s3_bucket.this.bucket

  versioning_configuration {
    status = "Enabled"
  }
}

# The versioning resource was unconditional before: keep its state (no change on AWS).
moved {
  from = aws_s3_bucket_versioning.this
  to   = aws_s3_bucket_versioning.this[0]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.bucket

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

data "aws_iam_policy_document" "this" {
  # Statements here win over same-sid statements in the caller's documents: TLS-only stays.
  source_policy_documents = var.policy_documents

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

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
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.bucket
  policy = data.aws_iam_policy_document.this.json

  # The public access block must be in force before any policy exists (S3 also rejects the two changing at once).
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.bucket

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }

    dynamic "noncurrent_version_expiration" {
      for_each = var.versioning_enabled && var.noncurrent_version_expiration_days != null ? [var.noncurrent_version_expiration_days] : []
      content {
        noncurrent_days = noncurrent_version_expiration.value
      }
    }

    dynamic "expiration" {
      for_each = var.versioning_enabled && var.noncurrent_version_expiration_days != null ? [true] : []
      content {
        expired_object_delete_marker = true
      }
    }
  }

  dynamic "rule" {
    for_each = { for r in var.expiration_rules : r.prefix => r.days }
    content {
      id     = "expire-${rule.key == "" ? "everything" : rule.key}"
      status = "Enabled"

      filter {
        prefix = rule.key
      }

      expiration {
        days = rule.value
      }
    }
  }

  # Noncurrent-version rules only make sense once S3 has the bucket's versioning state.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_cors_configuration" "this" {
  count = length(var.cors_rules) > 0 ? 1 : 0

  bucket = aws_s3_bucket.this.bucket

  dynamic "cors_rule" {
    for_each = var.cors_rules
    content {
      allowed_methods = cors_rule.value.allowed_methods
      allowed_origins = cors_rule.value.allowed_origins
      allowed_headers = cors_rule.value.allowed_headers
      expose_headers  = cors_rule.value.expose_headers
      max_age_seconds = cors_rule.value.max_age_seconds
    }
  }
}

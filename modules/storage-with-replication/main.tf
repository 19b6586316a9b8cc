# The originals bucket (default provider) and its replica (aws.replica). Each bucket gets the
# same baseline: versioning, SSE, all public access blocked, ACLs off, TLS-only policy, lifecycle.

locals {
  buckets_secure_transport_only = {
    main    = aws_s3_bucket.this.arn
    replica = aws_s3_bucket.replica.arn
  }
}

# --- main bucket --------------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logs need a log bucket per region that this service does not otherwise have; CloudTrail data events are the audit trail.
  #checkov:skip=CKV2_AWS_62:The originals' event notifications are owned by the modules/fanout instance attached to this bucket.
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

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.bucket

  versioning_configuration {
    status = "Enabled"
  }
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

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.bucket
  policy = data.aws_iam_policy_document.secure_transport_only["main"].json

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

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # A delete marker with no versions left under it is clutter: remove it.
    expiration {
      expired_object_delete_marker = true
    }
  }

  # Noncurrent-version rules need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.this]
}

# --- replica bucket -----------------------------------------------------------------------

resource "aws_s3_bucket" "replica" {
  #checkov:skip=CKV_AWS_18:Server access logs need a log bucket per region that this service does not otherwise have; CloudTrail data events are the audit trail.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of the replica; it is read only on failover.
  provider = aws.replica

  bucket        = var.replica_bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "replica" {
  provider = aws.replica

  bucket = aws_s3_bucket.replica.bucket

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "replica" {
  provider = aws.replica

  bucket = aws_s3_bucket.replica.bucket

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "replica" {
  provider = aws.replica

  bucket = aws_s3_bucket.replica.bucket

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  provider = aws.replica

  bucket = aws_s3_bucket.replica.bucket

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.replica_kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.replica_kms_key_arn
    }
    bucket_key_enabled = var.replica_kms_key_arn != null
  }
}

resource "aws_s3_bucket_policy" "replica" {
  provider = aws.replica

  bucket = aws_s3_bucket.replica.bucket
  policy = data.aws_iam_policy_document.secure_transport_only["replica"].json

  # The public access block must be in force before any policy exists (S3 also rejects the two changing at once).
  depends_on = [aws_s3_bucket_public_access_block.replica]
}

resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  provider = aws.replica

  bucket = aws_s3_bucket.replica.bucket

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }

    dynamic "noncurrent_version_expiration" {
      for_each = var.replica_noncurrent_version_expiration_days == null ? [] : [var.replica_noncurrent_version_expiration_days]
      content {
        noncurrent_days = noncurrent_version_expiration.value
      }
    }

    dynamic "expiration" {
      for_each = var.replica_noncurrent_version_expiration_days == null ? [] : [true]
      content {
        expired_object_delete_marker = true
      }
    }
  }

  # Noncurrent-version rules need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.replica]
}

# --- policies shared by both buckets ------------------------------------------------------

data "aws_iam_policy_document" "secure_transport_only" {
  for_each = local.buckets_secure_transport_only

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]

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

# Replication of every object version and delete marker from the main bucket to the replica,
# with a role that can do exactly that and nothing else.

locals {
  replication_role_name = "${substr(var.bucket_name, 0, 52)}-replication"
  # KMS keys are regional: the region in each key's ARN is the region S3 calls KMS from.
  kms_region         = var.kms_key_arn == null ? null : split(":", var.kms_key_arn)[3]
  replica_kms_region = var.replica_kms_key_arn == null ? null : split(":", var.replica_kms_key_arn)[3]
}

data "aws_iam_policy_document" "replication_assume_role" {
  statement {
    sid     = "S3AssumesRoleToReplicate"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "replication" {
  statement {
    sid       = "ReadReplicationConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [aws_s3_bucket.this.arn]
  }

  statement {
    sid = "ReadSourceVersions"
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = ["${aws_s3_bucket.this.arn}/*"]
  }

  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = ["${aws_s3_bucket.replica.arn}/*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "DecryptSourceObjects"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.kms_region}.amazonaws.com"]
      }

      # With an S3 Bucket Key the encryption context is the bucket ARN, otherwise the object's.
      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:aws:s3:arn"
        values   = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null || var.replica_kms_key_arn == null ? [] : [var.replica_kms_key_arn]
    content {
      sid       = "EncryptReplicas"
      actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.replica_kms_region}.amazonaws.com"]
      }

      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:aws:s3:arn"
        values   = [aws_s3_bucket.replica.arn, "${aws_s3_bucket.replica.arn}/*"]
      }
    }
  }
}

resource "aws_iam_role" "replication" {
  name               = local.replication_role_name
  description        = "S3 replication from ${var.bucket_name} to ${var.replica_bucket_name}"
  assume_role_policy = data.aws_iam_policy_document.replication_assume_role.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "replication" {
  name   = "replication"
  role   = aws_iam_role.replication.name
  policy = data.aws_iam_policy_document.replication.json
}

resource "aws_s3_bucket_replication_configuration" "this" {
  bucket = aws_s3_bucket.this.bucket
  role   = aws_iam_role.replication.arn

  rule {
    id     = "everything"
    status = "Enabled"

    # An empty filter selects every object; it is also what allows delete marker replication.
    filter {}

    delete_marker_replication {
      status = "Enabled"
    }

    dynamic "source_selection_criteria" {
      for_each = var.kms_key_arn == null ? [] : [true]
      content {
        sse_kms_encrypted_objects {
          status = "Enabled"
        }
      }
    }

    destination {
      bucket        = aws_s3_bucket.replica.arn
      storage_class = var.replica_storage_class

      dynamic "encryption_configuration" {
        for_each = var.kms_key_arn == null || var.replica_kms_key_arn == null ? [] : [var.replica_kms_key_arn]
        content {
          replica_kms_key_id = encryption_configuration.value
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.kms_key_arn == null || var.replica_kms_key_arn != null
      error_message = "kms_key_arn is set, so replica_kms_key_arn must be set too: S3 re-encrypts SSE-KMS replicas with a key in the replica's region."
    }
  }

  # S3 rejects replication until both buckets are versioned; the role's policy must exist first.
  depends_on = [aws_s3_bucket_versioning.this, aws_s3_bucket_versioning.replica, aws_iam_role_policy.replication]
}

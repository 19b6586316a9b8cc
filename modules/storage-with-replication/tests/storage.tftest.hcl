# Mocked computed values must look real where the provider validates them (ARNs).
mock_provider "aws" {
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn    = "arn:aws:s3:::imgsvc-test-originals"
      region = "eu-west-1"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/imgsvc-test-originals-replication"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

mock_provider "aws" {
  alias = "replica"

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn    = "arn:aws:s3:::imgsvc-test-originals-replica"
      region = "eu-central-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  bucket_name         = "imgsvc-test-originals"
  replica_bucket_name = "imgsvc-test-originals-replica"
}

run "both_buckets_are_versioned_private_encrypted_and_tls_only" {
  command = apply

  assert {
    condition     = aws_s3_bucket.this.bucket == "imgsvc-test-originals" && aws_s3_bucket.replica.bucket == "imgsvc-test-originals-replica"
    error_message = "The buckets must be named as given."
  }

  assert {
    condition     = output.bucket_name == "imgsvc-test-originals" && output.replica_bucket_name == "imgsvc-test-originals-replica"
    error_message = "The name outputs must be the bucket names."
  }

  assert {
    condition     = output.bucket_region == "eu-west-1" && output.replica_bucket_region == "eu-central-1"
    error_message = "Each region output must come from its own bucket (main: default provider, replica: aws.replica)."
  }

  assert {
    condition = (
      aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
      && aws_s3_bucket_versioning.replica.versioning_configuration[0].status == "Enabled"
    )
    error_message = "Both buckets must be versioned."
  }

  assert {
    condition = alltrue([
      for b in [aws_s3_bucket_public_access_block.this, aws_s3_bucket_public_access_block.replica] :
      b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets
    ])
    error_message = "Both buckets must set all four public access block flags."
  }

  assert {
    condition = (
      aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
      && aws_s3_bucket_ownership_controls.replica.rule[0].object_ownership == "BucketOwnerEnforced"
    )
    error_message = "Both buckets must disable ACLs (BucketOwnerEnforced)."
  }

  assert {
    condition = alltrue([
      for c in [aws_s3_bucket_server_side_encryption_configuration.this, aws_s3_bucket_server_side_encryption_configuration.replica] :
      one(c.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    ])
    error_message = "Both buckets must default to SSE-S3."
  }

  assert {
    condition = alltrue([
      for key, arn in { main = aws_s3_bucket.this.arn, replica = aws_s3_bucket.replica.arn } :
      anytrue([
        for s in data.aws_iam_policy_document.secure_transport_only[key].statement :
        s.effect == "Deny" && contains(s.actions, "s3:*") && toset(s.resources) == toset([arn, "${arn}/*"])
        && anytrue([for c in s.condition : c.test == "Bool" && c.variable == "aws:SecureTransport" && c.values == tolist(["false"])])
      ])
    ])
    error_message = "Each bucket's policy must deny requests without TLS on the bucket and its objects."
  }

  assert {
    condition = (
      aws_s3_bucket_policy.this.policy == data.aws_iam_policy_document.secure_transport_only["main"].json
      && aws_s3_bucket_policy.replica.policy == data.aws_iam_policy_document.secure_transport_only["replica"].json
    )
    error_message = "Each bucket must carry its own TLS-only policy."
  }
}

run "everything_replicates_with_delete_markers_to_onezone_ia" {
  command = apply

  assert {
    condition     = aws_s3_bucket_replication_configuration.this.bucket == "imgsvc-test-originals" && aws_s3_bucket_replication_configuration.this.role == aws_iam_role.replication.arn
    error_message = "Replication must be configured on the main bucket with the module's role."
  }

  assert {
    condition = (
      length(aws_s3_bucket_replication_configuration.this.rule) == 1
      && aws_s3_bucket_replication_configuration.this.rule[0].status == "Enabled"
      && (aws_s3_bucket_replication_configuration.this.rule[0].filter[0].prefix == null ? "" : aws_s3_bucket_replication_configuration.this.rule[0].filter[0].prefix) == ""
      && length(aws_s3_bucket_replication_configuration.this.rule[0].filter[0].and) == 0
      && length(aws_s3_bucket_replication_configuration.this.rule[0].filter[0].tag) == 0
    )
    error_message = "One enabled rule with an empty filter must replicate every object."
  }

  assert {
    condition     = aws_s3_bucket_replication_configuration.this.rule[0].delete_marker_replication[0].status == "Enabled"
    error_message = "Delete markers must be replicated."
  }

  assert {
    condition = (
      aws_s3_bucket_replication_configuration.this.rule[0].destination[0].bucket == aws_s3_bucket.replica.arn
      && aws_s3_bucket_replication_configuration.this.rule[0].destination[0].storage_class == "ONEZONE_IA"
    )
    error_message = "Replicas must go to the replica bucket in ONEZONE_IA."
  }

  assert {
    condition     = output.replication_role_arn == aws_iam_role.replication.arn && aws_iam_role.replication.name == "imgsvc-test-originals-replication"
    error_message = "The replication role must be named after the bucket and exported."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.replication_assume_role.statement :
      contains(s.actions, "sts:AssumeRole") && anytrue([for p in s.principals : p.type == "Service" && contains(p.identifiers, "s3.amazonaws.com")])
    ])
    error_message = "Only S3 may assume the replication role."
  }
}

run "replication_role_is_least_privilege" {
  command = apply

  assert {
    condition     = aws_iam_role_policy.replication.role == aws_iam_role.replication.name && aws_iam_role_policy.replication.policy == data.aws_iam_policy_document.replication.json
    error_message = "The replication policy must be attached to the replication role."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.replication.statement :
      alltrue([for a in s.actions : a != "*" && !endswith(a, ":*")]) && !contains(s.resources, "*")
    ])
    error_message = "No wildcard actions and no wildcard resources in the replication policy."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.replication.statement : s.actions if contains(s.resources, "${aws_s3_bucket.replica.arn}/*")
    ])) == toset(["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"])
    error_message = "The role may only replicate into the replica."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.replication.statement :
      alltrue([for r in s.resources : r == aws_s3_bucket.this.arn || r == "${aws_s3_bucket.this.arn}/*" || r == "${aws_s3_bucket.replica.arn}/*"])
    ])
    error_message = "The role may only touch the two buckets (no KMS without keys)."
  }
}

run "main_versions_expire_after_6_days_replica_keeps_them" {
  command = apply

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.status == "Enabled" && try(r.noncurrent_version_expiration[0].noncurrent_days, 0) == 6
    ])
    error_message = "Main bucket noncurrent versions must expire after 6 days."
  }

  assert {
    condition     = alltrue([for r in aws_s3_bucket_lifecycle_configuration.replica.rule : length(r.noncurrent_version_expiration) == 0 && length(r.expiration) == 0])
    error_message = "The replica must keep every version by default."
  }

  assert {
    condition = alltrue([
      for lc in [aws_s3_bucket_lifecycle_configuration.this, aws_s3_bucket_lifecycle_configuration.replica] :
      anytrue([for r in lc.rule : r.status == "Enabled" && try(r.abort_incomplete_multipart_upload[0].days_after_initiation, 0) == 1])
    ])
    error_message = "Both buckets must abort incomplete multipart uploads after 1 day."
  }
}

run "replica_expiry_and_storage_class_are_configurable" {
  command = apply

  variables {
    replica_noncurrent_version_expiration_days = 365
    replica_storage_class                      = "GLACIER_IR"
    noncurrent_version_expiration_days         = 2
  }

  assert {
    condition     = anytrue([for r in aws_s3_bucket_lifecycle_configuration.replica.rule : try(r.noncurrent_version_expiration[0].noncurrent_days, 0) == 365])
    error_message = "The replica's noncurrent versions must expire when configured."
  }

  assert {
    condition     = anytrue([for r in aws_s3_bucket_lifecycle_configuration.this.rule : try(r.noncurrent_version_expiration[0].noncurrent_days, 0) == 2])
    error_message = "The main bucket's noncurrent expiry must follow the variable."
  }

  assert {
    condition     = aws_s3_bucket_replication_configuration.this.rule[0].destination[0].storage_class == "GLACIER_IR"
    error_message = "The replica storage class must follow the variable."
  }
}

run "kms_keys_encrypt_both_sides_and_replication_reencrypts" {
  command = apply

  variables {
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    replica_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/66666666-7777-8888-9999-000000000000"
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn
      && one(aws_s3_bucket_server_side_encryption_configuration.replica.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.replica_kms_key_arn
      && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    )
    error_message = "Each bucket must use its KMS key with a Bucket Key."
  }

  assert {
    condition = (
      aws_s3_bucket_replication_configuration.this.rule[0].source_selection_criteria[0].sse_kms_encrypted_objects[0].status == "Enabled"
      && aws_s3_bucket_replication_configuration.this.rule[0].destination[0].encryption_configuration[0].replica_kms_key_id == var.replica_kms_key_arn
    )
    error_message = "SSE-KMS objects must replicate, re-encrypted with the replica's key."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.replication.statement :
      s.actions == toset(["kms:Decrypt"]) && s.resources == toset([var.kms_key_arn])
      && anytrue([for c in s.condition : c.variable == "kms:ViaService" && c.values == tolist(["s3.eu-west-1.amazonaws.com"])])
    ])
    error_message = "The role may decrypt with the source key only through S3 in the key's region."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.replication.statement :
      contains(s.actions, "kms:Encrypt") && s.resources == toset([var.replica_kms_key_arn])
      && anytrue([for c in s.condition : c.variable == "kms:ViaService" && c.values == tolist(["s3.eu-central-1.amazonaws.com"])])
    ])
    error_message = "The role may encrypt with the replica key only through S3 in the replica's region."
  }
}

run "rejects_source_kms_key_without_replica_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  expect_failures = [aws_s3_bucket_replication_configuration.this]
}

run "rejects_archive_storage_class" {
  command = plan

  variables {
    replica_storage_class = "GLACIER"
  }

  expect_failures = [var.replica_storage_class]
}

run "rejects_unknown_storage_class" {
  command = plan

  variables {
    replica_storage_class = "onezone_ia"
  }

  expect_failures = [var.replica_storage_class]
}

run "rejects_noncurrent_expiration_of_zero_days" {
  command = plan

  variables {
    noncurrent_version_expiration_days = 0
  }

  expect_failures = [var.noncurrent_version_expiration_days]
}

run "rejects_fractional_noncurrent_expiration" {
  command = plan

  variables {
    noncurrent_version_expiration_days = 1.5
  }

  expect_failures = [var.noncurrent_version_expiration_days]
}

run "rejects_replica_noncurrent_expiration_of_zero_days" {
  command = plan

  variables {
    replica_noncurrent_version_expiration_days = 0
  }

  expect_failures = [var.replica_noncurrent_version_expiration_days]
}

run "rejects_abort_multipart_after_zero_days" {
  command = plan

  variables {
    abort_incomplete_multipart_upload_days = 0
  }

  expect_failures = [var.abort_incomplete_multipart_upload_days]
}

run "rejects_invalid_bucket_name" {
  command = plan

  variables {
    bucket_name = "Originals_Bucket"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_invalid_replica_bucket_name" {
  command = plan

  variables {
    replica_bucket_name = "xn--replica"
  }

  expect_failures = [var.replica_bucket_name]
}

run "rejects_kms_key_that_is_not_an_arn" {
  command = plan

  variables {
    kms_key_arn         = "alias/originals"
    replica_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/66666666-7777-8888-9999-000000000000"
  }

  expect_failures = [var.kms_key_arn]
}

# One item per image version: partition key `id` (the image's UUID), sort key `version` (1, 2, ...).
# A Query on `id` returns the image's history in version order; the latest is one
# ScanIndexForward=false, Limit=1 away.
resource "aws_dynamodb_table" "this" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  range_key                   = "version"
  deletion_protection_enabled = var.deletion_protection_enabled

  stream_enabled   = var.stream_view_type != null
  stream_view_type = var.stream_view_type

  attribute {
    name = "id"
    type = "S"
  }

  attribute {
    name = "version"
    type = "N"
  }

  point_in_time_recovery {
    enabled = true
  }

  # enabled = true means KMS: the given key, or the AWS managed aws/dynamodb key when null.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  # Always present, so that turning TTL off (null) really disables it on the table.
  ttl {
    enabled        = var.ttl_attribute_name != null
    attribute_name = var.ttl_attribute_name
  }

  tags = var.tags
}

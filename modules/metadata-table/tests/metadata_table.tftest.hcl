mock_provider "aws" {}

variables {
  table_name = "imgsvc-test-images"
}

run "defaults_key_schema_on_demand_pitr_encrypted_and_protected" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.this.name == "imgsvc-test-images" && output.table_name == "imgsvc-test-images"
    error_message = "The table must be named as given."
  }

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "id" && aws_dynamodb_table.this.range_key == "version"
    error_message = "Keys must be id (partition) and version (sort)."
  }

  assert {
    condition     = aws_dynamodb_table.this.attribute == toset([{ name = "id", type = "S" }, { name = "version", type = "N" }])
    error_message = "id must be a string and version a number, and no other attribute may be declared."
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "The table must be on-demand."
  }

  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "Point-in-time recovery must be on."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled
    error_message = "The table must be encrypted with KMS (the AWS managed key by default)."
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "Deletion protection must be on by default."
  }

  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == "purge_at"
    error_message = "TTL must be on by default, on purge_at: the attribute the service writes on upload tickets (repository.TTL_ATTRIBUTE)."
  }

  assert {
    condition     = !aws_dynamodb_table.this.stream_enabled && output.table_stream_arn == null
    error_message = "No stream (and no stream ARN) by default."
  }

  assert {
    condition     = output.table_arn == aws_dynamodb_table.this.arn
    error_message = "table_arn must be the table's ARN."
  }
}

run "deletion_protection_can_be_turned_off_for_dev" {
  command = apply

  variables {
    deletion_protection_enabled = false
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled == false
    error_message = "deletion_protection_enabled = false must turn deletion protection off."
  }
}

run "ttl_can_be_turned_off" {
  command = apply

  variables {
    ttl_attribute_name = null
  }

  assert {
    condition     = !aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == null
    error_message = "ttl_attribute_name = null must turn TTL off (the ttl block stays, disabled, so an existing TTL is really switched off)."
  }
}

run "ttl_stream_and_kms_key_when_configured" {
  command = apply

  variables {
    ttl_attribute_name = "delete_after"
    stream_view_type   = "NEW_AND_OLD_IMAGES"
    kms_key_arn        = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == "delete_after"
    error_message = "TTL must be on the configured attribute."
  }

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled && aws_dynamodb_table.this.stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "The stream must be on with the configured view type."
  }

  assert {
    condition     = output.table_stream_arn == aws_dynamodb_table.this.stream_arn && output.table_stream_arn != null
    error_message = "table_stream_arn must be the stream's ARN when the stream is on."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "The table must be encrypted with the given key."
  }
}

run "rejects_unknown_stream_view_type" {
  command = plan

  variables {
    stream_view_type = "NEW_IMAGES"
  }

  expect_failures = [var.stream_view_type]
}

run "rejects_ttl_on_a_key_attribute" {
  command = plan

  variables {
    ttl_attribute_name = "version"
  }

  expect_failures = [var.ttl_attribute_name]
}

run "rejects_empty_ttl_attribute_name" {
  command = plan

  variables {
    ttl_attribute_name = ""
  }

  expect_failures = [var.ttl_attribute_name]
}

run "rejects_table_name_with_spaces" {
  command = plan

  variables {
    table_name = "image metadata"
  }

  expect_failures = [var.table_name]
}

run "rejects_too_short_table_name" {
  command = plan

  variables {
    table_name = "ab"
  }

  expect_failures = [var.table_name]
}

run "rejects_kms_key_that_is_not_an_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/dynamodb"
  }

  expect_failures = [var.kms_key_arn]
}

provider "aws" {
  region = "eu-west-1"
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  name      = "imgsvc-example-originals"
  consumers = ["zoom", "spin"]
}

# The bucket whose new objects fan out; the module owns its notification configuration.
resource "aws_s3_bucket" "originals" {
  bucket        = "${local.name}-${data.aws_caller_identity.current.account_id}"
  force_destroy = true # an example: destroy empties it
}

# One function per consumer, allowed to drain its queue (<name>-<consumer>: named, not taken
# from the module's outputs, since the mapping the module creates needs the grant first).
data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "consume" {
  for_each = toset(local.consumers)

  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = ["arn:aws:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${local.name}-${each.key}"]
  }
}

resource "aws_iam_role" "consumer" {
  for_each = toset(local.consumers)

  name               = "${local.name}-${each.key}-${data.aws_region.current.name}"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

resource "aws_iam_role_policy" "consumer" {
  for_each = toset(local.consumers)

  role   = aws_iam_role.consumer[each.key].id
  policy = data.aws_iam_policy_document.consume[each.key].json
}

resource "aws_lambda_function" "consumer" {
  for_each = toset(local.consumers)

  function_name    = "${local.name}-${each.key}"
  role             = aws_iam_role.consumer[each.key].arn
  handler          = "handler.handler"
  runtime          = "python3.12"
  architectures    = ["arm64"]
  filename         = "${path.module}/fixtures/handler.zip"
  source_code_hash = filebase64sha256("${path.module}/fixtures/handler.zip")
  timeout          = 60

  depends_on = [aws_iam_role_policy.consumer]
}

module "fanout" {
  source = "../../"

  name        = local.name
  bucket_name = aws_s3_bucket.originals.bucket
  consumers = {
    for consumer in local.consumers : consumer => {
      function_name              = aws_lambda_function.consumer[consumer].function_name
      batch_size                 = 1
      visibility_timeout_seconds = 360 # 6 x the function's timeout
    }
  }
}

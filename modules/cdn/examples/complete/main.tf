provider "aws" {
  region = "eu-west-1"
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  name = "imgsvc-example-cdn"
}

# The private renditions bucket, read by CloudFront through origin access control.
resource "aws_s3_bucket" "renditions" {
  # S3 names are global: the account id keeps it apart from everyone else's.
  bucket        = "${local.name}-${data.aws_caller_identity.current.account_id}-renditions"
  force_destroy = true # an example: destroy empties it
}

resource "aws_s3_bucket_public_access_block" "renditions" {
  bucket = aws_s3_bucket.renditions.bucket

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# The grant the module builds for its distribution (modules never call each other: with
# modules/bucket, pass it in policy_documents instead).
resource "aws_s3_bucket_policy" "renditions" {
  bucket = aws_s3_bucket.renditions.bucket
  policy = module.cdn.renditions_bucket_policy_json

  # S3 refuses a policy while the public access block is being set.
  depends_on = [aws_s3_bucket_public_access_block.renditions]
}

# The resize function: CloudFront's failover origin for a missing rendition, behind its
# function URL (AWS_IAM auth; the module grants CloudFront the invoke permissions).
data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "resize" {
  name               = "${local.name}-resize-${data.aws_region.current.name}"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

resource "aws_lambda_function" "resize" {
  function_name    = "${local.name}-resize"
  role             = aws_iam_role.resize.arn
  handler          = "handler.handler"
  runtime          = "python3.12"
  architectures    = ["arm64"]
  filename         = "${path.module}/fixtures/handler.zip"
  source_code_hash = filebase64sha256("${path.module}/fixtures/handler.zip")
}

resource "aws_lambda_function_url" "resize" {
  function_name      = aws_lambda_function.resize.function_name
  authorization_type = "AWS_IAM"
}

module "cdn" {
  source = "../../"

  name = local.name
  renditions_bucket = {
    name                 = aws_s3_bucket.renditions.bucket
    arn                  = aws_s3_bucket.renditions.arn
    regional_domain_name = aws_s3_bucket.renditions.bucket_regional_domain_name
  }
  resize_function = {
    function_name = aws_lambda_function.resize.function_name
    function_url  = aws_lambda_function_url.resize.function_url
  }

  force_destroy = true # an example: destroy empties the site bucket
}

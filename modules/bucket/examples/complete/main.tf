provider "aws" {
  region = "eu-west-1"
}

data "aws_caller_identity" "current" {}

locals {
  # S3 names are global: the account id keeps these apart from everyone else's.
  prefix = "imgsvc-example-${data.aws_caller_identity.current.account_id}"
}

# Direct uploads: browsers POST presigned forms; what is not processed expires after a day.
module "uploads_bucket" {
  source = "../../"

  bucket_name      = "${local.prefix}-uploads"
  force_destroy    = true # an example: destroy empties it
  expiration_rules = [{ prefix = "uploads/", days = 1 }]
  cors_rules = [{
    allowed_methods = ["POST"]
    allowed_origins = ["https://images.example.com"]
    allowed_headers = ["*"]
  }]
}

# Renditions: made again when missing, so unversioned; one more principal may read them (the
# cdn module's renditions_bucket_policy_json goes here the same way).
data "aws_iam_policy_document" "read_renditions" {
  statement {
    sid       = "ReadRenditions"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${local.prefix}-renditions/r/*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

module "renditions_bucket" {
  source = "../../"

  bucket_name        = "${local.prefix}-renditions"
  versioning_enabled = false
  force_destroy      = true
  policy_documents   = [data.aws_iam_policy_document.read_renditions.json]
}

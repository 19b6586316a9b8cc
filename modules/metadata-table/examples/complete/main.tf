provider "aws" {
  region = "eu-west-1"
}

module "metadata" {
  source = "../../"

  table_name                  = "imgsvc-example-images"
  deletion_protection_enabled = false # an example: lets `terraform destroy` delete the table
}

# Functions get item-level actions on the table, nothing more.
data "aws_iam_policy_document" "read_images" {
  statement {
    sid       = "ReadImages"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = [module.metadata.table_arn]
  }
}

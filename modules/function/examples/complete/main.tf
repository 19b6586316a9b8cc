provider "aws" {
  region = "eu-west-1"
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

# Exactly what the code needs (the module adds writing its own logs and X-Ray traces).
data "aws_iam_policy_document" "resize" {
  statement {
    sid       = "ReadImages"
    actions   = ["dynamodb:GetItem"]
    resources = ["arn:aws:dynamodb:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/imgsvc-example-images"]
  }
}

module "resize" {
  source = "../../"

  function_name = "imgsvc-example-resize"
  description   = "Makes missing renditions (an example)."
  handler       = "handler.handler"
  # In the service: "${path.root}/../../dist/resize.zip", which `make build` writes.
  filename    = "${path.module}/fixtures/handler.zip"
  memory_size = 1024
  timeout     = 29
  policy_json = data.aws_iam_policy_document.resize.json

  environment_variables = {
    IMGSVC_TABLE_NAME = "imgsvc-example-images"
  }

  reserved_concurrent_executions = 10
  function_url_enabled           = true # origin of a CDN's failover (modules/cdn)
}

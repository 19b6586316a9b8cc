provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "replica"
  region = "eu-central-1"
}

data "aws_caller_identity" "current" {}

module "originals" {
  source = "../../"
  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  # S3 names are global: the account id keeps these apart from everyone else's.
  bucket_name         = "imgsvc-example-${data.aws_caller_identity.current.account_id}-originals"
  replica_bucket_name = "imgsvc-example-${data.aws_caller_identity.current.account_id}-replica"
  force_destroy       = true # an example: destroy empties both
}

provider "aws" {
  region = local.region

  default_tags {
    tags = local.tags
  }
}

# CloudFront publishes its metrics in us-east-1: the CDN's alarm lives there.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

# The originals' replica lives here; the service reads it when the main region fails.
provider "aws" {
  alias  = "replica"
  region = local.replica_region

  default_tags {
    tags = local.tags
  }
}

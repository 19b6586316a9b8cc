provider "aws" {
  region = local.region

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

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# The originals' replica lives here; the service reads it when the main region fails.
provider "aws" {
  alias  = "replica"
  region = var.replica_region

  default_tags {
    tags = local.tags
  }
}

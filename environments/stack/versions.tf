terraform {
  # 1.9: validations that refer to other variables.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 5.100" # the stage roots' lock files pin the exact version
      configuration_aliases = [aws.replica, aws.us_east_1]
    }
  }
}

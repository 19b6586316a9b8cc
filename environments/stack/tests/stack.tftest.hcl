# The stack's own validations, against mocked AWS providers and the stand-in Lambda artifacts
# in tests/fixtures/dist (a plan only hashes them). What its settings do to the resources is
# checked on plans of the stage roots against moto (tests/terraform/test_environments.py): a
# test here can only see the stack's outputs, not the resources of the modules it calls.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

mock_provider "aws" {
  alias = "replica"
}

variables {
  name_prefix    = "imgsvc-test"
  region         = "eu-west-1"
  replica_region = "eu-central-1"
  artifacts_dir  = "tests/fixtures/dist"
}

run "plans_with_the_defaults_and_an_alarm_topic" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:imgsvc-test-alarms"
  }
}

run "rejects_an_alarm_topic_in_another_region" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:imgsvc-test-alarms"
  }

  expect_failures = [var.alarm_topic_arn]
}

run "rejects_a_fifo_alarm_topic" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:imgsvc-test-alarms.fifo"
  }

  expect_failures = [var.alarm_topic_arn]
}

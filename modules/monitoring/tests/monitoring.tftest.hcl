# The dashboard shows every part of a stage, and each alarm watches the right metric, in the
# right region, with its threshold, notifying the topic.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
}

mock_provider "aws" {
  alias = "us_east_1"
}

variables {
  name = "imgsvc-test"
  api  = { name = "imgsvc-test-api", stage = "v1" }
  functions = {
    api         = "imgsvc-test-api"
    resize      = "imgsvc-test-resize"
    uploads     = "imgsvc-test-uploads"
    effect-zoom = "imgsvc-test-effect-zoom"
  }
  alarmed_functions = ["api", "resize"]
  cdn               = { distribution_id = "E2TEST12345" }
  queues = {
    uploads-uploads = { name = "imgsvc-test-uploads-uploads", dlq_name = "imgsvc-test-uploads-uploads-dlq" }
    originals-zoom  = { name = "imgsvc-test-originals-zoom", dlq_name = "imgsvc-test-originals-zoom-dlq" }
  }
  alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:alarms"
}

run "alarms_have_the_names_the_runbooks_use" {
  command = plan

  assert {
    condition = output.alarm_names == sort([
      "imgsvc-test-api-fn-errors",
      "imgsvc-test-api-fn-throttles",
      "imgsvc-test-resize-fn-errors",
      "imgsvc-test-resize-fn-throttles",
      "imgsvc-test-api-5xx-rate",
      "imgsvc-test-cdn-5xx-rate",
      "imgsvc-test-uploads-uploads-oldest-message-age",
      "imgsvc-test-originals-zoom-oldest-message-age",
    ])
    error_message = "alarm names differ from docs/operations.md's"
  }
}

run "alarms_watch_the_right_metrics_with_the_default_thresholds" {
  command = plan

  assert {
    condition = alltrue([
      aws_cloudwatch_metric_alarm.function_errors["api"].metric_name == "Errors",
      aws_cloudwatch_metric_alarm.function_errors["api"].dimensions.FunctionName == "imgsvc-test-api",
      aws_cloudwatch_metric_alarm.function_errors["api"].threshold == 0,
      aws_cloudwatch_metric_alarm.function_throttles["resize"].metric_name == "Throttles",
      aws_cloudwatch_metric_alarm.function_throttles["resize"].dimensions.FunctionName == "imgsvc-test-resize",
      aws_cloudwatch_metric_alarm.oldest_message_age["originals-zoom"].metric_name == "ApproximateAgeOfOldestMessage",
      aws_cloudwatch_metric_alarm.oldest_message_age["originals-zoom"].dimensions.QueueName == "imgsvc-test-originals-zoom",
      aws_cloudwatch_metric_alarm.oldest_message_age["originals-zoom"].threshold == 900,
      aws_cloudwatch_metric_alarm.cdn_5xx_rate[0].namespace == "AWS/CloudFront",
      aws_cloudwatch_metric_alarm.cdn_5xx_rate[0].metric_name == "5xxErrorRate",
      aws_cloudwatch_metric_alarm.cdn_5xx_rate[0].dimensions.Region == "Global",
      aws_cloudwatch_metric_alarm.cdn_5xx_rate[0].threshold == 1,
      aws_cloudwatch_metric_alarm.api_5xx_rate[0].threshold == 1,
    ])
    error_message = "an alarm watches the wrong metric or threshold"
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.api_5xx_rate[0].metric_query : q.expression if q.return_data == true]) == "IF(requests >= 20, 100 * errors / requests, 0)"
    error_message = "the API alarm's rate is 5xx per request, once there are enough requests"
  }
}

run "every_alarm_but_the_cdn_one_notifies_the_topic" {
  command = plan

  assert {
    condition = alltrue([
      for alarm in concat(
        values(aws_cloudwatch_metric_alarm.function_errors),
        values(aws_cloudwatch_metric_alarm.function_throttles),
        aws_cloudwatch_metric_alarm.api_5xx_rate,
        values(aws_cloudwatch_metric_alarm.oldest_message_age),
      ) : alarm.alarm_actions == toset([var.alarm_topic_arn]) && alarm.ok_actions == toset([var.alarm_topic_arn])
    ])
    error_message = "every alarm notifies alarm_topic_arn on alarm and recovery"
  }

  # A topic in eu-west-1 cannot take a us-east-1 alarm's notifications.
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cdn_5xx_rate[0].alarm_actions) == 0
    error_message = "the CDN alarm must not name a topic of another region"
  }
}

run "the_cdn_alarm_notifies_its_us_east_1_topic" {
  command = plan

  variables {
    cdn_alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:alarms"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.cdn_5xx_rate[0].alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:alarms"])
    error_message = "the CDN alarm notifies cdn_alarm_topic_arn"
  }
}

run "thresholds_are_settings" {
  command = plan

  variables {
    thresholds = {
      function_errors            = 5
      api_5xx_rate_percent       = 2.5
      min_api_requests           = 100
      cdn_5xx_rate_percent       = 3
      oldest_message_age_seconds = 120
      period_seconds             = 60
      evaluation_periods         = 3
    }
  }

  assert {
    condition = alltrue([
      aws_cloudwatch_metric_alarm.function_errors["resize"].threshold == 5,
      aws_cloudwatch_metric_alarm.function_throttles["resize"].threshold == 0,
      aws_cloudwatch_metric_alarm.api_5xx_rate[0].threshold == 2.5,
      aws_cloudwatch_metric_alarm.cdn_5xx_rate[0].threshold == 3,
      aws_cloudwatch_metric_alarm.oldest_message_age["uploads-uploads"].threshold == 120,
      aws_cloudwatch_metric_alarm.oldest_message_age["uploads-uploads"].period == 60,
      aws_cloudwatch_metric_alarm.oldest_message_age["uploads-uploads"].evaluation_periods == 3,
    ])
    error_message = "thresholds do not reach the alarms"
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.api_5xx_rate[0].metric_query : q.expression if q.return_data == true]) == "IF(requests >= 100, 100 * errors / requests, 0)"
    error_message = "min_api_requests reaches the API alarm"
  }
}

run "the_dashboard_shows_every_part_of_the_stage" {
  command = plan

  assert {
    condition     = aws_cloudwatch_dashboard.this.dashboard_name == "imgsvc-test"
    error_message = "one dashboard per stage, named after it"
  }

  assert {
    condition = alltrue([
      for title in [
        "API: requests, 4xx, 5xx", "API: latency p50, p99 (ms)",
        "Functions: invocations", "Functions: errors", "Functions: throttles",
        "Functions: duration p99 (ms)", "Functions: concurrency (max)",
        "CDN: requests", "CDN: error rates (%)", "CDN: cache hit rate (%)", "CDN: origin latency (ms)",
        "Queues: age of the oldest message (s)", "Dead-letter queues: messages",
        "Requests by route and status class", "Renditions made on a miss, by format",
        "Uploads rejected, by reason", "GIF effects ready, by effect", "GIF effects failed, by effect",
        "Reads served from the replica", "Version conflicts", "Version conflict retries",
      ] : contains([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : try(w.properties.title, "")], title)
    ])
    error_message = "a widget is missing from the dashboard"
  }

  # CloudFront's metrics exist only in us-east-1; the rest are the stage's region.
  assert {
    condition = alltrue([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets :
      w.properties.region == (startswith(w.properties.title, "CDN:") ? "us-east-1" : "eu-west-1") if w.type == "metric"
    ])
    error_message = "CDN widgets must read us-east-1, the others the stage's region"
  }

  # Each function is a line of each function widget.
  assert {
    condition = alltrue([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets :
      length(w.properties.metrics) == 4 if startswith(try(w.properties.title, ""), "Functions:")
    ])
    error_message = "every function is on every function widget"
  }

  assert {
    condition = strcontains(
      aws_cloudwatch_dashboard.this.dashboard_body,
      jsonencode("SEARCH('{imgsvc,Stage,Function,Format} Stage=\"imgsvc-test\" MetricName=\"RenditionsMade\"', 'Sum', 300)")
    )
    error_message = "the renditions widget searches the service's namespace, this stage's metrics"
  }
}

run "without_api_or_cdn_their_widgets_and_alarms_are_left_out" {
  command = plan

  variables {
    api = null
    cdn = null
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.api_5xx_rate) == 0 && length(aws_cloudwatch_metric_alarm.cdn_5xx_rate) == 0
    error_message = "no API or CDN alarm without them"
  }

  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w
      if startswith(try(w.properties.title, ""), "API:") || startswith(try(w.properties.title, ""), "CDN:")
    ]) == 0
    error_message = "no API or CDN widget without them"
  }
}

run "rejects_an_alarmed_function_that_is_not_on_the_dashboard" {
  command = plan

  variables {
    alarmed_functions = ["api", "thumbnails"]
  }

  expect_failures = [var.alarmed_functions]
}

run "rejects_a_rate_that_is_not_a_percentage" {
  command = plan

  variables {
    thresholds = { api_5xx_rate_percent = 0 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_a_queue_age_beyond_retention" {
  command = plan

  variables {
    thresholds = { oldest_message_age_seconds = 1209601 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_a_period_that_is_not_whole_minutes" {
  command = plan

  variables {
    thresholds = { period_seconds = 90 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_a_negative_error_threshold" {
  command = plan

  variables {
    thresholds = { function_errors = -1 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_a_cdn_topic_outside_us_east_1" {
  command = plan

  variables {
    cdn_alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:alarms"
  }

  expect_failures = [var.cdn_alarm_topic_arn]
}

run "rejects_an_aws_namespace" {
  command = plan

  variables {
    metrics_namespace = "AWS/Lambda"
  }

  expect_failures = [var.metrics_namespace]
}

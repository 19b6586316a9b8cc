# One dashboard and the alarms an on-call engineer needs for one stage of the image service.
#
# Sources:
# - API Gateway REST metrics (ApiName, Stage; 5XXError/4XXError are 0/1 per request, Count,
#   Latency): https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
# - Lambda function metrics (Invocations, Errors, Throttles, Duration, ConcurrentExecutions):
#   https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
# - CloudFront metrics are published in us-east-1 only, namespace AWS/CloudFront, dimensions
#   DistributionId and Region=Global; CacheHitRate, OriginLatency and the per-status error rates
#   need the distribution's additional metrics (a monitoring subscription, modules/cdn), and each
#   takes one statistic (Average or Sum):
#   https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html
#   An alarm can only watch metrics of its own region (aws-cdk#30483: "Cannot create an Alarm in
#   region 'us-west-2' based on metric '5xxErrorRate' in 'us-east-1'"), so the CDN's alarm is
#   created through the aws.us_east_1 provider; dashboards are global and each widget names its
#   region.
# - SQS: ApproximateAgeOfOldestMessage, ApproximateNumberOfMessagesVisible:
#   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
# - The service's own metrics (lambda_src/imgsvc/metrics.py, EMF): found with SEARCH expressions
#   on their exact dimension sets, so every route, format, reason and effect gets its own line
#   without the dashboard listing them:
#   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html

data "aws_region" "current" {}

locals {
  region  = data.aws_region.current.name
  period  = var.thresholds.period_seconds
  stage   = coalesce(var.metrics_stage, var.name)
  actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  # The CDN's alarm is in us-east-1 and can notify only a topic there.
  cdn_actions = (
    var.cdn_alarm_topic_arn != null ? [var.cdn_alarm_topic_arn] :
    var.alarm_topic_arn != null && local.region == "us-east-1" ? [var.alarm_topic_arn] : []
  )

  # Built whether or not there is an API or a CDN (Terraform's conditionals cannot choose
  # between tuples of different shapes); the widgets are dropped below when there is none.
  api_dimensions = ["ApiName", try(var.api.name, ""), "Stage", try(var.api.stage, "")]
  cdn_dimensions = ["DistributionId", try(var.cdn.distribution_id, ""), "Region", "Global"]
  function_keys  = sort(keys(var.functions))
  queue_keys     = sort(keys(var.queues))

  # One graph widget: `metrics` in the dashboard body's array form.
  # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
  text = [{
    type   = "text"
    width  = 24
    height = 2
    properties = {
      markdown = "# ${var.name}\nAlarms: `${var.name}-*`. Runbooks: docs/operations.md. The service's own metrics are in namespace `${var.metrics_namespace}`, Stage `${local.stage}`."
    }
  }]

  api_widgets = [
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "API: requests, 4xx, 5xx", region = local.region, period = local.period, stat = "Sum", view = "timeSeries"
        metrics = [
          concat(["AWS/ApiGateway", "Count"], local.api_dimensions, [{ label = "requests" }]),
          concat(["AWS/ApiGateway", "4XXError"], local.api_dimensions, [{ label = "4xx" }]),
          concat(["AWS/ApiGateway", "5XXError"], local.api_dimensions, [{ label = "5xx" }]),
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "API: latency p50, p99 (ms)", region = local.region, period = local.period, view = "timeSeries"
        metrics = [
          concat(["AWS/ApiGateway", "Latency"], local.api_dimensions, [{ stat = "p50", label = "p50" }]),
          concat(["AWS/ApiGateway", "Latency"], local.api_dimensions, [{ stat = "p99", label = "p99" }]),
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6
      properties = {
        title = "API: 5xx rate (%)", region = local.region, period = local.period, view = "timeSeries"
        metrics = [
          concat(["AWS/ApiGateway", "5XXError"], local.api_dimensions, [{ stat = "Sum", id = "errors", visible = false }]),
          concat(["AWS/ApiGateway", "Count"], local.api_dimensions, [{ stat = "Sum", id = "requests", visible = false }]),
          [{ expression = "100 * errors / requests", label = "5xx %", id = "rate" }],
        ]
        annotations = { horizontal = [{ label = "alarm", value = var.thresholds.api_5xx_rate_percent }] }
      }
    },
  ]

  # Each function's invocations, errors, throttles, p99 duration and concurrency: one widget per
  # measure, one line per function.
  function_measures = [
    { metric = "Invocations", stat = "Sum", title = "Functions: invocations" },
    { metric = "Errors", stat = "Sum", title = "Functions: errors" },
    { metric = "Throttles", stat = "Sum", title = "Functions: throttles" },
    { metric = "Duration", stat = "p99", title = "Functions: duration p99 (ms)" },
    { metric = "ConcurrentExecutions", stat = "Maximum", title = "Functions: concurrency (max)" },
  ]
  function_widgets = [
    for measure in local.function_measures : {
      type = "metric", width = measure.metric == "ConcurrentExecutions" ? 24 : 12, height = 6
      properties = {
        title = measure.title, region = local.region, period = local.period, stat = measure.stat, view = "timeSeries"
        metrics = [
          for key in local.function_keys : ["AWS/Lambda", measure.metric, "FunctionName", var.functions[key], { label = key }]
        ]
      }
    }
  ]

  cdn_widgets = [
    {
      type = "metric", width = 6, height = 6
      properties = {
        title   = "CDN: requests", region = "us-east-1", period = local.period, stat = "Sum", view = "timeSeries"
        metrics = [concat(["AWS/CloudFront", "Requests"], local.cdn_dimensions)]
      }
    },
    {
      type = "metric", width = 6, height = 6
      properties = {
        title = "CDN: error rates (%)", region = "us-east-1", period = local.period, stat = "Average", view = "timeSeries"
        metrics = [
          concat(["AWS/CloudFront", "4xxErrorRate"], local.cdn_dimensions, [{ label = "4xx" }]),
          concat(["AWS/CloudFront", "5xxErrorRate"], local.cdn_dimensions, [{ label = "5xx" }]),
          concat(["AWS/CloudFront", "TotalErrorRate"], local.cdn_dimensions, [{ label = "total" }]),
        ]
        annotations = { horizontal = [{ label = "5xx alarm", value = var.thresholds.cdn_5xx_rate_percent }] }
      }
    },
    {
      type = "metric", width = 6, height = 6
      properties = {
        title   = "CDN: cache hit rate (%)", region = "us-east-1", period = local.period, stat = "Average", view = "timeSeries"
        metrics = [concat(["AWS/CloudFront", "CacheHitRate"], local.cdn_dimensions)]
      }
    },
    {
      type = "metric", width = 6, height = 6
      properties = {
        title   = "CDN: origin latency (ms)", region = "us-east-1", period = local.period, stat = "Average", view = "timeSeries"
        metrics = [concat(["AWS/CloudFront", "OriginLatency"], local.cdn_dimensions)]
      }
    },
  ]

  queue_widgets = [
    {
      type = "metric", width = 12, height = 6
      properties = {
        title = "Queues: age of the oldest message (s)", region = local.region, period = local.period, stat = "Maximum", view = "timeSeries"
        metrics = [
          for key in local.queue_keys : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", var.queues[key].name, { label = key }]
        ]
        annotations = { horizontal = [{ label = "alarm", value = var.thresholds.oldest_message_age_seconds }] }
      }
    },
    {
      type = "metric", width = 12, height = 6
      properties = {
        title = "Dead-letter queues: messages", region = local.region, period = local.period, stat = "Maximum", view = "timeSeries"
        metrics = [
          for key in local.queue_keys : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.queues[key].dlq_name, { label = "${key} DLQ" }]
        ]
      }
    },
  ]

  # The service's own metrics: one SEARCH per widget line, on the exact dimension set the code
  # publishes (metrics.py), limited to this stage.
  custom = [
    { title = "Requests by route and status class", dims = "Function,Route,StatusClass", metric = "Requests", stat = "Sum" },
    { title = "Renditions made on a miss, by format", dims = "Function,Format", metric = "RenditionsMade", stat = "Sum" },
    { title = "Rendition time p99 (ms), by format", dims = "Function,Format", metric = "RenditionMs", stat = "p99" },
    { title = "Rendition size (bytes, average), by format", dims = "Function,Format", metric = "RenditionBytes", stat = "Average" },
    { title = "Uploads processed", dims = "Function", metric = "UploadsProcessed", stat = "Sum" },
    { title = "Uploads rejected, by reason", dims = "Function,Reason", metric = "UploadsRejected", stat = "Sum" },
    { title = "GIF effects ready, by effect", dims = "Function,Effect", metric = "GifsReady", stat = "Sum" },
    { title = "GIF effects failed, by effect", dims = "Function,Effect", metric = "GifsFailed", stat = "Sum" },
    { title = "GIF time p99 (ms), by effect", dims = "Function,Effect", metric = "GifMs", stat = "p99" },
    { title = "Reads served from the replica", dims = "Function", metric = "ReplicaReads", stat = "Sum" },
    { title = "Version conflicts", dims = "Function,Operation", metric = "VersionConflicts", stat = "Sum" },
    { title = "Version conflict retries", dims = "Function,Operation", metric = "VersionConflictRetries", stat = "Sum" },
  ]
  custom_widgets = [
    for widget in local.custom : {
      type = "metric", width = 8, height = 6
      properties = {
        title = widget.title, region = local.region, period = local.period, view = "timeSeries"
        metrics = [[{
          expression = "SEARCH('{${var.metrics_namespace},Stage,${widget.dims}} Stage=\"${local.stage}\" MetricName=\"${widget.metric}\"', '${widget.stat}', ${local.period})"
          id         = "search"
        }]]
      }
    }
  ]

  widgets = concat(
    local.text,
    [for widget in local.api_widgets : widget if var.api != null],
    [for widget in local.function_widgets : widget if length(var.functions) > 0],
    [for widget in local.cdn_widgets : widget if var.cdn != null],
    [for widget in local.queue_widgets : widget if length(var.queues) > 0],
    local.custom_widgets,
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}

# --- alarms ------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = toset(var.alarmed_functions)

  alarm_name          = "${var.name}-${each.key}-fn-errors"
  alarm_description   = "${var.functions[each.key]} raised more than ${var.thresholds.function_errors} errors in ${local.period} s. Runbook: docs/operations.md."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.functions[each.key] }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = var.thresholds.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.function_errors
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = toset(var.alarmed_functions)

  alarm_name          = "${var.name}-${each.key}-fn-throttles"
  alarm_description   = "${var.functions[each.key]} was throttled more than ${var.thresholds.function_throttles} times in ${local.period} s. Runbook: docs/operations.md."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = var.functions[each.key] }
  statistic           = "Sum"
  period              = local.period
  evaluation_periods  = var.thresholds.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.function_throttles
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# The share of requests answered 5xx, counted only once the API served min_api_requests in the
# period (one failed request of two is not an outage).
resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  count = var.api == null ? 0 : 1

  alarm_name          = "${var.name}-api-5xx-rate"
  alarm_description   = "More than ${var.thresholds.api_5xx_rate_percent}% of the requests to ${var.api.name} (stage ${var.api.stage}) were answered 5xx. Runbook: docs/operations.md."
  evaluation_periods  = var.thresholds.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.api_5xx_rate_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= ${var.thresholds.min_api_requests}, 100 * errors / requests, 0)"
    label       = "5xx % of requests"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5XXError"
      dimensions  = { ApiName = var.api.name, Stage = var.api.stage }
      stat        = "Sum"
      period      = local.period
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = { ApiName = var.api.name, Stage = var.api.stage }
      stat        = "Sum"
      period      = local.period
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "cdn_5xx_rate" {
  count    = var.cdn == null ? 0 : 1
  provider = aws.us_east_1

  alarm_name          = "${var.name}-cdn-5xx-rate"
  alarm_description   = "More than ${var.thresholds.cdn_5xx_rate_percent}% of the viewer requests to CloudFront distribution ${var.cdn.distribution_id} were answered 5xx. Runbook: docs/operations.md."
  namespace           = "AWS/CloudFront"
  metric_name         = "5xxErrorRate"
  dimensions          = { DistributionId = var.cdn.distribution_id, Region = "Global" }
  statistic           = "Average"
  period              = local.period
  evaluation_periods  = var.thresholds.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.cdn_5xx_rate_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.cdn_actions
  ok_actions          = local.cdn_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  for_each = var.queues

  alarm_name          = "${var.name}-${each.key}-oldest-message-age"
  alarm_description   = "A message has waited more than ${var.thresholds.oldest_message_age_seconds} s in ${each.value.name}: its consumer is failing, throttled or too slow. Runbook: docs/operations.md."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = each.value.name }
  statistic           = "Maximum"
  period              = local.period
  evaluation_periods  = var.thresholds.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.oldest_message_age_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

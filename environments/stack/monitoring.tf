# The stage's dashboard and alarms (modules/monitoring): the API, every function, the CDN, the
# queues and the service's own metrics. The fan-outs keep their own DLQ, error and throttle
# alarms per consumer (modules/fanout).

locals {
  # What the functions publish their metrics under (functions.tf) and the dashboard searches.
  metrics_namespace = "imgsvc"
  metrics_stage     = var.name_prefix

  # Every queue by its name without the stage prefix: its alarm is <queue name>-oldest-message-age.
  fanout_queues = merge(
    { for key, url in module.effects_fanout.queue_urls : "originals-${key}" => key },
    { for key, url in module.uploads_pipeline.queue_urls : "uploads-${key}" => key },
  )
}

module "monitoring" {
  source = "../../modules/monitoring"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name              = var.name_prefix
  metrics_namespace = local.metrics_namespace
  metrics_stage     = local.metrics_stage
  api               = { name = "${var.name_prefix}-api", stage = module.api.stage_name }
  functions = merge(
    { for key, f in module.function : key => f.function_name },
    { resize = module.resize.function_name },
  )
  alarmed_functions = ["api", "resize"]
  cdn               = { distribution_id = module.cdn.distribution_id }
  # Queue names are <name_prefix>-<fan-out>-<consumer> (modules/fanout).
  queues = {
    for key in keys(local.fanout_queues) : key => {
      name     = "${var.name_prefix}-${key}"
      dlq_name = "${var.name_prefix}-${key}-dlq"
    }
  }
  alarm_topic_arn     = var.alarm_topic_arn
  cdn_alarm_topic_arn = var.cdn_alarm_topic_arn
  thresholds          = { for name, value in var.alarm_thresholds : name => value if value != null }
}

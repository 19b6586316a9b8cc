output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_arn
}

output "alarm_names" {
  description = "Names of every alarm the module creates, sorted: function errors and throttles, the API's and the CDN's 5xx rates, the oldest message age per queue."
  value = sort(concat(
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_throttles : alarm.alarm_name],
    aws_cloudwatch_metric_alarm.api_5xx_rate[*].alarm_name,
    aws_cloudwatch_metric_alarm.cdn_5xx_rate[*].alarm_name,
    [for alarm in aws_cloudwatch_metric_alarm.oldest_message_age : alarm.alarm_name],
  ))
}

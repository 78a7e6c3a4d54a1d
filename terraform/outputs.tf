output "artifacts_bucket" {
  description = "S3 bucket holding glue/ (entry script, wheels, pipeline) and tmp/."
  value       = aws_s3_bucket.artifacts.bucket
}

output "glue_job_name" {
  description = "Name of the Glue job: `aws glue start-job-run --job-name <this>` for a manual run."
  value       = aws_glue_job.etl.name
}

output "glue_schedule" {
  description = "When the daily trigger starts the job (UTC)."
  value       = aws_glue_trigger.daily.schedule
}

output "glue_log_groups" {
  description = "CloudWatch log groups of the job: JSON-lines output, and Glue's system log."
  value       = { for k, g in aws_cloudwatch_log_group.glue : k => g.name }
}

output "db_address" {
  description = "Private hostname of the RDS instance (reachable only from the Glue security group)."
  value       = aws_db_instance.main.address
}

output "db_name" {
  description = "Application database name."
  value       = var.db_name
}

output "db_admin_secret_arn" {
  description = "Secrets Manager ARN of the RDS-managed admin credentials (for creating the app user; the ETL never reads it)."
  value       = aws_db_instance.main.master_user_secret[0].secret_arn
}

output "secret_arns" {
  description = "Secrets to fill in after the first apply (docs/deploy-aws.md)."
  value = {
    nasa_api_key     = aws_secretsmanager_secret.nasa_api_key.arn
    db_app_user      = aws_secretsmanager_secret.db_app.arn
    enricher_api_key = aws_secretsmanager_secret.enricher_api_key.arn
  }
}

output "enricher_url" {
  description = "HTTPS URL of the Lightsail image enricher (LIGHTSAIL_API of the job)."
  value       = aws_lightsail_container_service.enricher.url
}

output "alerts_topic_arn" {
  description = "SNS topic that receives Glue job failures."
  value       = aws_sns_topic.alerts.arn
}

output "vpc_id" {
  description = "The VPC the job and the database run in."
  value       = aws_vpc.main.id
}

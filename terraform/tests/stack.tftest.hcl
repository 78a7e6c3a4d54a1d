# `terraform test` with a mocked AWS provider: nothing is created and no credentials are needed.
# It checks what the configuration computes (the job's arguments, the uploaded files) and that
# the variables' validations refuse bad input. Run from terraform/ after `terraform init`:
#   terraform test -var artifacts_dir=../dist/glue      (after `make wheels`)
# tests/deploy/test_terraform_tools.py runs it on a fake dist folder.

mock_provider "aws" {
  # Plan-time ARN validation needs ARN-shaped values where the mock would invent random text.
  mock_data "aws_availability_zones" {
    defaults = { names = ["us-east-1a", "us-east-1b"] }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mock-AbCdEf" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { bucket = "nasa-etl-artifacts-mock", arn = "arn:aws:s3:::nasa-etl-artifacts-mock" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:nasa-etl-alerts" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:us-east-1:123456789012:rule/nasa-etl-job-failed" }
  }
  mock_resource "aws_db_instance" {
    defaults = {
      address            = "nasa-etl-db.mock.us-east-1.rds.amazonaws.com"
      port               = 5432
      master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-mock-AbCdEf", kms_key_id = "k", secret_status = "active" }]
    }
  }
  mock_resource "aws_lightsail_container_service" {
    defaults = { url = "https://nasa-etl-enricher.mock.us-east-1.cs.amazonlightsail.com/" }
  }
  mock_resource "aws_subnet" {
    defaults = { arn = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-mock", availability_zone = "us-east-1a" }
  }
  mock_resource "aws_security_group" {
    defaults = { arn = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-mock" }
  }
  mock_resource "aws_vpc" {
    defaults = { arn = "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-mock" }
  }
  mock_resource "aws_glue_connection" {
    defaults = { arn = "arn:aws:glue:us-east-1:123456789012:connection/nasa-etl-vpc" }
  }
}


variables {
  enricher_image   = ":nasa-etl-enricher.enricher.1"
  enricher_api_key = "0123456789abcdef0123456789abcdef-not-a-real-key"
}

override_resource {
  target = aws_secretsmanager_secret.nasa_api_key
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nasa-etl/nasa-api-key-AAAAAA" }
}

override_resource {
  target = aws_secretsmanager_secret.db_app
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nasa-etl/db-app-user-BBBBBB" }
}

override_resource {
  target = aws_secretsmanager_secret.enricher_api_key
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nasa-etl/enricher-api-key-CCCCCC" }
}

run "glue_job_arguments_are_arns_and_locations" {
  command = apply

  assert {
    condition = aws_glue_job.etl.default_arguments["--secrets"] == join(",", [
      "NASA_API_KEY=arn:aws:secretsmanager:us-east-1:123456789012:secret:nasa-etl/nasa-api-key-AAAAAA",
      "DB_USER=arn:aws:secretsmanager:us-east-1:123456789012:secret:nasa-etl/db-app-user-BBBBBB#username",
      "DB_PASS=arn:aws:secretsmanager:us-east-1:123456789012:secret:nasa-etl/db-app-user-BBBBBB#password",
      "ENRICHER_API_KEY=arn:aws:secretsmanager:us-east-1:123456789012:secret:nasa-etl/enricher-api-key-CCCCCC",
    ])
    error_message = "--secrets must map each reference name to its secret ARN: ${aws_glue_job.etl.default_arguments["--secrets"]}"
  }

  assert {
    condition     = alltrue([for v in values(aws_glue_job.etl.default_arguments) : !strcontains(v, var.enricher_api_key)])
    error_message = "a secret value reached a job argument"
  }

  assert {
    condition = aws_glue_job.etl.default_arguments["--additional-python-modules"] == join(",", [
      for w in ["etl_nasa_sources", "etl_sinks", "etlcore", "image_enricher"] :
      "s3://nasa-etl-artifacts-mock/glue/wheels/${w}-0.1.0-py3-none-any.whl"
    ])
    error_message = "every wheel of dist/glue/wheels must be installed: ${aws_glue_job.etl.default_arguments["--additional-python-modules"]}"
  }

  assert {
    condition     = aws_glue_job.etl.command[0].script_location == "s3://nasa-etl-artifacts-mock/glue/glue_entry.py"
    error_message = "the job must run the uploaded entry script"
  }

  assert {
    condition     = aws_glue_job.etl.default_arguments["--pipeline"] == "s3://nasa-etl-artifacts-mock/glue/pipelines/nasa.yaml"
    error_message = "the job must run the uploaded pipeline"
  }

  assert {
    condition     = aws_glue_job.etl.default_arguments["--lightsail-api"] == "https://nasa-etl-enricher.mock.us-east-1.cs.amazonlightsail.com"
    error_message = "LIGHTSAIL_API is the container service URL"
  }

  assert {
    condition     = aws_glue_job.etl.default_arguments["--db-host"] == "nasa-etl-db.mock.us-east-1.rds.amazonaws.com" && aws_glue_job.etl.default_arguments["--db-port"] == "5432" && aws_glue_job.etl.default_arguments["--db-name"] == "nasa"
    error_message = "the job must point at the RDS instance"
  }

  assert {
    condition     = !contains(keys(aws_glue_job.etl.default_arguments), "--env")
    error_message = "no --env argument without pipeline_environment (Glue refuses empty values)"
  }

  assert {
    condition = sort([for o in values(aws_s3_object.glue_artifacts) : o.key]) == sort([
      "glue/glue_entry.py",
      "glue/pipelines/nasa.yaml",
      "glue/wheels/etl_nasa_sources-0.1.0-py3-none-any.whl",
      "glue/wheels/etl_sinks-0.1.0-py3-none-any.whl",
      "glue/wheels/etlcore-0.1.0-py3-none-any.whl",
      "glue/wheels/image_enricher-0.1.0-py3-none-any.whl",
    ])
    error_message = "everything in dist/glue is uploaded under glue/"
  }

  assert {
    condition     = aws_lightsail_container_service_deployment_version.enricher.public_endpoint[0].container_port == 8080
    error_message = "the health-checked endpoint is the container's port"
  }
}

run "extra_environment_travels_as_json" {
  command = apply

  variables {
    pipeline_environment = {
      MARS_PHOTOS_API_URL    = "https://mirror.example/mars-photos/api/v1"
      ENRICHER_ALLOWED_HOSTS = "apod.nasa.gov,mars.nasa.gov"
    }
  }

  assert {
    condition     = jsondecode(aws_glue_job.etl.default_arguments["--env"]).ENRICHER_ALLOWED_HOSTS == "apod.nasa.gov,mars.nasa.gov" && jsondecode(aws_glue_job.etl.default_arguments["--env"]).MARS_PHOTOS_API_URL == "https://mirror.example/mars-photos/api/v1"
    error_message = "--env must carry pipeline_environment, commas included"
  }
}

run "incomplete_artifacts_stop_the_plan" {
  command = plan

  variables {
    artifacts_dir = "./no-such-dist"
  }

  expect_failures = [aws_glue_job.etl]
}

run "secrets_are_refused_as_plain_environment" {
  command = plan

  variables {
    pipeline_environment = { NASA_API_KEY = "DEMO_KEY" }
  }

  expect_failures = [var.pipeline_environment]
}

run "schedule_must_be_a_six_field_cron" {
  command = plan

  variables {
    schedule = "cron(30 6 * * *)"
  }

  expect_failures = [var.schedule]
}

run "enricher_key_must_be_long" {
  command = plan

  variables {
    enricher_api_key = "short"
  }

  expect_failures = [var.enricher_api_key]
}

run "glueetl_needs_two_workers" {
  command = plan

  variables {
    glue_number_of_workers = 1
  }

  expect_failures = [var.glue_number_of_workers]
}

run "log_retention_is_at_least_a_year" {
  command = plan

  variables {
    log_retention_days = 30
  }

  expect_failures = [var.log_retention_days]
}

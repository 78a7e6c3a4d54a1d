# The daily job: Glue 5.0 `glueetl` (Python 3.11, as in development), FLEX, 2 G.1X workers. Its
# script is glue/glue_entry.py, a thin wrapper that installs nothing and calls `etl run`; the
# wheels of every distribution come from the artifacts bucket via --additional-python-modules.
# Job arguments carry secret ARNs only, never values: arguments may be logged.

locals {
  glue_log_prefix = "/aws-glue/${var.project}"
  artifacts_uri   = "s3://${aws_s3_bucket.artifacts.bucket}/glue"
  wheel_files     = sort(tolist(fileset(var.artifacts_dir, "wheels/*.whl")))

  # Reference names of pipelines/nasa.yaml -> secret ARN (#key picks a field of a JSON secret).
  secret_arguments = join(",", [
    "NASA_API_KEY=${aws_secretsmanager_secret.nasa_api_key.arn}",
    "DB_USER=${aws_secretsmanager_secret.db_app.arn}#username",
    "DB_PASS=${aws_secretsmanager_secret.db_app.arn}#password",
    "ENRICHER_API_KEY=${aws_secretsmanager_secret.enricher_api_key.arn}",
  ])

  # The job's arguments: the entry script turns them into the pipeline's environment.
  glue_arguments = {
    "--job-language"              = "python"
    "--job-bookmark-option"       = "job-bookmark-disable"
    "--TempDir"                   = "s3://${aws_s3_bucket.artifacts.bucket}/tmp/"
    "--custom-logGroup-prefix"    = local.glue_log_prefix
    "--additional-python-modules" = join(",", [for f in local.wheel_files : "${local.artifacts_uri}/${f}"])
    "--pipeline"                  = "${local.artifacts_uri}/${var.pipeline_file}"
    "--secrets"                   = local.secret_arguments
    "--secret-providers"          = "aws-secrets-manager"
    "--db-host"                   = aws_db_instance.main.address
    "--db-port"                   = tostring(aws_db_instance.main.port)
    "--db-name"                   = var.db_name
    "--lightsail-api"             = trimsuffix(aws_lightsail_container_service.enricher.url, "/")
  }

  # A JSON object, so values may hold commas (e.g. a list of hosts).
  pipeline_environment = length(var.pipeline_environment) == 0 ? "" : jsonencode(var.pipeline_environment)
}

resource "aws_glue_security_configuration" "main" {
  #checkov:skip=CKV_AWS_99:CloudWatch encryption is done by the log groups' own KMS key (monitoring.tf); Glue's CloudWatch encryption mode would rename the log groups after the security configuration, away from the ones created here with retention.
  name = var.project

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "DISABLED"
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = aws_kms_key.main.arn
    }

    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = aws_kms_key.main.arn
    }
  }
}

resource "aws_glue_connection" "vpc" {
  name            = "${var.project}-vpc"
  description     = "Runs the job in a private subnet of ${var.project} (NAT for the internet, S3 endpoint)"
  connection_type = "NETWORK"

  physical_connection_requirements {
    availability_zone      = aws_subnet.private[0].availability_zone
    subnet_id              = aws_subnet.private[0].id
    security_group_id_list = [aws_security_group.glue.id]
  }
}

resource "aws_glue_job" "etl" {
  name        = var.project
  description = "etl run ${var.pipeline_file} (daily NASA load into RDS)"
  role_arn    = aws_iam_role.glue.arn

  glue_version      = "5.0"
  execution_class   = "FLEX"
  worker_type       = var.glue_worker_type
  number_of_workers = var.glue_number_of_workers
  max_retries       = var.glue_max_retries
  timeout           = var.glue_timeout_minutes

  security_configuration = aws_glue_security_configuration.main.name
  connections            = [aws_glue_connection.vpc.name]

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "${local.artifacts_uri}/glue_entry.py"
  }

  execution_property {
    max_concurrent_runs = 1
  }

  default_arguments = merge(
    local.glue_arguments,
    # Glue rejects an argument with an empty value: pass --env only when there is something.
    local.pipeline_environment == "" ? {} : { "--env" = local.pipeline_environment },
  )

  lifecycle {
    precondition {
      condition     = length(local.wheel_files) >= 4 && fileexists("${var.artifacts_dir}/glue_entry.py") && fileexists("${var.artifacts_dir}/${var.pipeline_file}")
      error_message = "dist/glue is incomplete: run `make wheels` (4 wheels, glue_entry.py and the pipeline) before applying."
    }
  }

  depends_on = [aws_s3_object.glue_artifacts, aws_cloudwatch_log_group.glue]
}

resource "aws_glue_trigger" "daily" {
  name              = "${var.project}-daily"
  description       = "Daily run after APOD publishes (${var.schedule}, UTC)"
  type              = "SCHEDULED"
  schedule          = var.schedule
  start_on_creation = true

  actions {
    job_name = aws_glue_job.etl.name
  }
}

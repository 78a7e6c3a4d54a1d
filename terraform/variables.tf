variable "region" {
  description = "AWS region for every resource (Lightsail container services exist in a subset of regions)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as us-east-1."
  }
}

variable "availability_zone_suffixes" {
  description = "The two availability zones of the private subnets, as suffixes of the region (us-east-1 + a)."
  type        = list(string)
  default     = ["a", "b"]

  validation {
    condition     = length(var.availability_zone_suffixes) == 2 && length(distinct(var.availability_zone_suffixes)) == 2 && alltrue([for s in var.availability_zone_suffixes : can(regex("^[a-z]$", s))])
    error_message = "availability_zone_suffixes must be two different letters, e.g. [\"a\", \"b\"]."
  }
}

variable "project" {
  description = "Name prefix of every resource; also the Glue job name and the S3 bucket prefix."
  type        = string
  default     = "nasa-etl"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,23}$", var.project))
    error_message = "project must be 3-24 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags added to every resource (the provider adds Project)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) > 0 && length(k) <= 128 && length(v) <= 256])
    error_message = "tags keys must be 1-128 characters and values at most 256."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; a /16 to /24. Subnets are carved from it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "vpc_cidr must be an IPv4 CIDR block between /16 and /24."
  }
}

variable "db_instance_class" {
  description = "RDS instance class. db.t4g.micro is plenty for a daily NASA load."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must look like db.t4g.micro."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major version (>= 15: the sink needs MERGE-era PostgreSQL). Minor versions upgrade automatically."
  type        = string
  default     = "16"

  validation {
    condition     = contains(["15", "16", "17"], var.db_engine_version)
    error_message = "db_engine_version must be 15, 16 or 17."
  }
}

variable "db_allocated_storage_gb" {
  description = "Initial gp3 storage in GiB; storage autoscaling may grow it to 5x."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 1000
    error_message = "db_allocated_storage_gb must be between 20 and 1000."
  }
}

variable "db_name" {
  description = "Name of the application database created in the RDS instance."
  type        = string
  default     = "nasa"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must be a lowercase PostgreSQL identifier."
  }
}

variable "db_admin_username" {
  description = "RDS master (admin) user. Its password is generated and rotated by RDS in Secrets Manager; the ETL never uses it."
  type        = string
  default     = "etl_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_admin_username)) && !contains(["postgres", "admin", "rdsadmin"], var.db_admin_username)
    error_message = "db_admin_username must be a lowercase identifier and not a reserved name (postgres, admin, rdsadmin)."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups (point-in-time recovery window)."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "schedule" {
  description = "Glue trigger schedule, a 6-field AWS cron in UTC. APOD publishes around midnight US-Eastern (04:00-05:00 UTC), so 06:30 UTC picks up the new day in both EST and EDT."
  type        = string
  default     = "cron(30 6 * * ? *)"

  validation {
    condition     = can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.schedule))
    error_message = "schedule must be a 6-field AWS cron expression such as cron(30 6 * * ? *)."
  }
}

variable "glue_worker_type" {
  description = "Glue worker type. The pipeline is one Python process, so the smallest (G.1X) is enough."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X"], var.glue_worker_type)
    error_message = "glue_worker_type must be G.1X or G.2X (FLEX supports these)."
  }
}

variable "glue_number_of_workers" {
  description = "Glue workers; 2 is the minimum for a glueetl job."
  type        = number
  default     = 2

  validation {
    condition     = var.glue_number_of_workers >= 2 && var.glue_number_of_workers <= 10
    error_message = "glue_number_of_workers must be between 2 and 10."
  }
}

variable "glue_timeout_minutes" {
  description = "Job timeout in minutes (Glue's default is 48 hours)."
  type        = number
  default     = 60

  validation {
    condition     = var.glue_timeout_minutes >= 10 && var.glue_timeout_minutes <= 480
    error_message = "glue_timeout_minutes must be between 10 and 480."
  }
}

variable "glue_max_retries" {
  description = "Automatic re-runs of a failed job run; safe because every load is idempotent."
  type        = number
  default     = 1

  validation {
    condition     = var.glue_max_retries >= 0 && var.glue_max_retries <= 3
    error_message = "glue_max_retries must be between 0 and 3."
  }
}

variable "artifacts_dir" {
  description = "Local folder built by `make wheels` (dist/glue): uploaded to the artifacts bucket under glue/."
  type        = string
  default     = "../dist/glue"

  validation {
    condition     = length(var.artifacts_dir) > 0 && !endswith(var.artifacts_dir, "/")
    error_message = "artifacts_dir must be a folder path without a trailing slash."
  }
}

variable "pipeline_file" {
  description = "Path of the pipeline inside artifacts_dir; the job reads it from S3."
  type        = string
  default     = "pipelines/nasa.yaml"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]+\\.ya?ml$", var.pipeline_file)) && !startswith(var.pipeline_file, "/")
    error_message = "pipeline_file must be a relative .yaml path."
  }
}

variable "pipeline_environment" {
  description = "Extra non-secret environment variables for the pipeline on Glue (e.g. MARS_PHOTOS_API_URL). Never put a secret here: job arguments may be logged."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.pipeline_environment) : can(regex("^[A-Z][A-Z0-9_]*$", k))])
    error_message = "pipeline_environment keys must be UPPER_CASE environment variable names."
  }

  validation {
    condition     = alltrue([for k in keys(var.pipeline_environment) : !can(regex("(KEY|PASS|PASSWORD|SECRET|TOKEN)", k))])
    error_message = "pipeline_environment must not carry secrets (names containing KEY, PASS, SECRET or TOKEN): store them in Secrets Manager."
  }
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups (Glue, RDS, VPC flow logs)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least one year (365, 400, 545, 731, ...)."
  }
}

variable "alert_email" {
  description = "Email address subscribed to the job-failure SNS topic; empty for none (subscribe later)."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address or empty."
  }
}

variable "enricher_image" {
  description = "Container image of the image_enricher service: a public image (registry/repo:tag) or a Lightsail-pushed one (:service.label.N)."
  type        = string

  validation {
    condition     = can(regex("^(:[a-z0-9-]+\\.[a-z0-9-]+\\.[0-9]+|[a-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64}))$", var.enricher_image))
    error_message = "enricher_image must be registry/repository:tag, registry/repository@sha256:..., or a Lightsail image reference :service.label.N."
  }
}

variable "enricher_port" {
  description = "Port the enricher container listens on."
  type        = number
  default     = 8080

  validation {
    condition     = var.enricher_port >= 1024 && var.enricher_port <= 65535
    error_message = "enricher_port must be an unprivileged port (1024-65535)."
  }
}

variable "enricher_power" {
  description = "Lightsail container power (size of each node)."
  type        = string
  default     = "nano"

  validation {
    condition     = contains(["nano", "micro", "small", "medium", "large", "xlarge"], var.enricher_power)
    error_message = "enricher_power must be one of nano, micro, small, medium, large, xlarge."
  }
}

variable "enricher_scale" {
  description = "Number of Lightsail container nodes."
  type        = number
  default     = 1

  validation {
    condition     = var.enricher_scale >= 1 && var.enricher_scale <= 20
    error_message = "enricher_scale must be between 1 and 20."
  }
}

variable "enricher_api_key" {
  description = "Shared secret the enricher requires as a Bearer token (at least 32 characters; e.g. `openssl rand -hex 32`). Stored in Secrets Manager for Glue and in the container's environment."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.enricher_api_key) >= 32 && !can(regex("\\s", var.enricher_api_key))
    error_message = "enricher_api_key must be at least 32 characters without whitespace."
  }
}

# PostgreSQL in the private subnets: encrypted, not publicly accessible, reachable only from the
# Glue security group. RDS manages the admin password in Secrets Manager (rotated every 7 days);
# the ETL connects as a separate least-privilege user (docs/deploy-aws.md shows the SQL).

locals {
  db_identifier = "${var.project}-db"
}

resource "aws_db_subnet_group" "main" {
  name        = "${var.project}-db"
  description = "Private subnets of ${var.project}"
  subnet_ids  = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "main" {
  name        = "${var.project}-postgres${var.db_engine_version}"
  family      = "postgres${var.db_engine_version}"
  description = "TLS only, DDL and slow-query logging"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "5000"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "main" {
  #checkov:skip=CKV_AWS_157:Single-AZ on purpose: a daily batch load tolerates a restore from backup; Multi-AZ would double the database cost.
  #checkov:skip=CKV_AWS_118:Enhanced monitoring adds a per-second agent and cost; CloudWatch basic metrics and the exported postgresql log suffice for one daily job.
  identifier     = local.db_identifier
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_allocated_storage_gb * 5
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.main.arn

  db_name                             = var.db_name
  username                            = var.db_admin_username
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = aws_kms_key.main.arn
  iam_database_authentication_enabled = true

  port                   = 5432
  publicly_accessible    = false
  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.rds.id]
  parameter_group_name   = aws_db_parameter_group.main.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"
  multi_az               = false

  # Backups finish and maintenance happens before the 06:30 UTC load.
  backup_retention_period   = var.db_backup_retention_days
  backup_window             = "03:00-03:30"
  maintenance_window        = "sun:04:00-sun:04:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = true
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.db_identifier}-final"

  # Database Insights standard mode (the successor of Performance Insights): 7 days, no charge.
  database_insights_mode                = "standard"
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.main.arn
  performance_insights_retention_period = 7

  auto_minor_version_upgrade      = true
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]

  depends_on = [aws_cloudwatch_log_group.rds]
}

# One customer-managed key for everything at rest: secrets, RDS storage and its managed admin
# secret, the artifacts bucket, Glue's S3 output and bookmarks, CloudWatch logs and the SNS topic.
# One key is one dollar a month; its policy names each service that may use it.

resource "aws_kms_key" "main" {
  description             = "${var.project}: secrets, RDS, artifacts bucket, Glue, logs and alerts"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  # In a key policy, Resource "*" means "this key" (a key policy cannot name its own ARN).
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsForThisProjectsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = [
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.glue_log_prefix}/*",
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/rds/instance/${local.db_identifier}/*",
              "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/vpc/${var.project}/flow-logs",
            ]
          }
        }
      },
      {
        # The form AWS documents for EventBridge targets on a KMS-encrypted topic: no condition
        # key is documented for this path, and a wrong one would silently drop every alert.
        # Who may publish is limited by the topic policy (this stack's rule only).
        Sid       = "EventBridgePublishesToTheEncryptedAlertTopic"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.project}"
  target_key_id = aws_kms_key.main.key_id
}

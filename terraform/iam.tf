# The Glue job's role, written out instead of attaching AWSGlueServiceRole: that managed policy
# grants S3 on every aws-glue-* bucket. Every secret and bucket is named by its exact ARN.

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "glue" {
  name               = "${var.project}-glue"
  description        = "Runs the ${var.project} Glue job"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

resource "aws_iam_role_policy" "glue" {
  name   = "${var.project}-glue"
  role   = aws_iam_role.glue.id
  policy = data.aws_iam_policy_document.glue.json
}

locals {
  ec2_arn_prefix = "arn:${local.partition}:ec2:${local.region}:${local.account_id}"
}

data "aws_iam_policy_document" "glue" {
  statement {
    sid     = "ReadTheThreeSecretsOfThisStack"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.nasa_api_key.arn,
      aws_secretsmanager_secret.db_app.arn,
      aws_secretsmanager_secret.enricher_api_key.arn,
    ]
  }

  statement {
    sid       = "UseTheStackKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/glue/*"]
  }

  statement {
    sid       = "ListArtifacts"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.artifacts.arn]
  }

  statement {
    sid       = "GlueTempDir"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/tmp/*"]
  }

  statement {
    # The groups exist (monitoring.tf, with retention and KMS); Glue may still ask to create them.
    sid     = "CreateJobLogGroupsIfAsked"
    actions = ["logs:CreateLogGroup"]
    resources = [
      aws_cloudwatch_log_group.glue["output"].arn,
      aws_cloudwatch_log_group.glue["error"].arn,
    ]
  }

  statement {
    sid     = "WriteJobLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "${aws_cloudwatch_log_group.glue["output"].arn}:*",
      "${aws_cloudwatch_log_group.glue["error"].arn}:*",
    ]
  }

  statement {
    sid       = "ReadTheNetworkConnection"
    actions   = ["glue:GetConnection"]
    resources = ["arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog", aws_glue_connection.vpc.arn]
  }

  statement {
    sid       = "InspectOwnRole"
    actions   = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies"]
    resources = [aws_iam_role.glue.arn]
  }

  statement {
    sid = "DescribeNetworkForTheConnection"
    # EC2 Describe* calls do not support resource-level permissions.
    actions = [
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcEndpoints",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "DescribeTheVpc"
    actions   = ["ec2:DescribeVpcAttribute"]
    resources = [aws_vpc.main.arn]
  }

  statement {
    sid     = "CreateJobEnisInThePrivateSubnet"
    actions = ["ec2:CreateNetworkInterface"]
    resources = [
      aws_subnet.private[0].arn,
      aws_security_group.glue.arn,
      "${local.ec2_arn_prefix}:network-interface/*",
    ]
  }

  statement {
    sid       = "DeleteJobEnis"
    actions   = ["ec2:DeleteNetworkInterface"]
    resources = ["${local.ec2_arn_prefix}:network-interface/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:Subnet"
      values   = [aws_subnet.private[0].arn]
    }
  }

  statement {
    sid       = "TagJobEnis"
    actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
    resources = ["${local.ec2_arn_prefix}:network-interface/*"]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["aws-glue-service-resource"]
    }
  }

  statement {
    sid       = "GlueJobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource type; the namespace condition scopes it.

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }
}

# --- VPC flow logs ----------------------------------------------------------------------------

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${var.project}-flow-logs"
  description        = "Delivers ${var.project} VPC flow logs to CloudWatch"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "${var.project}-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

# The artifacts bucket: the Glue entry script, the wheels of every distribution and the pipeline
# (uploaded from dist/glue by `make wheels` + apply), plus Glue's temporary directory.

resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a second bucket (which itself would fail this check); CloudTrail data events are the audit trail if ever needed.
  #checkov:skip=CKV_AWS_144:Cross-region replication of rebuildable artifacts (wheels, a script, a YAML file) buys nothing: `make wheels` and apply recreate them.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to uploads; the job reads its artifacts on its schedule.
  bucket_prefix = "${var.project}-artifacts-"
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "expire-old-artifact-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-glue-temp"
    status = "Enabled"

    filter {
      prefix = "tmp/"
    }

    expiration {
      days = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts]
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

data "aws_iam_policy_document" "artifacts_bucket" {
  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# Everything `make wheels` put into dist/glue: glue_entry.py, wheels/*.whl, pipelines/*.yaml.
resource "aws_s3_object" "glue_artifacts" {
  for_each = fileset(var.artifacts_dir, "**")

  bucket      = aws_s3_bucket.artifacts.id
  key         = "glue/${each.value}"
  source      = "${var.artifacts_dir}/${each.value}"
  source_hash = filemd5("${var.artifacts_dir}/${each.value}")
  kms_key_id  = aws_kms_key.main.arn

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.artifacts]
}

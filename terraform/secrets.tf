# The values of the NASA key and of the application database user are never in Terraform: put
# them with `aws secretsmanager put-secret-value` (docs/deploy-aws.md). Only their ARNs travel
# to the Glue job. The RDS admin password is a separate secret that RDS itself manages.

resource "aws_secretsmanager_secret" "nasa_api_key" {
  #checkov:skip=CKV2_AWS_57:The api.nasa.gov key cannot be rotated by an API call; regenerate it at api.nasa.gov and put the new value (docs/deploy-aws.md).
  name                    = "${var.project}/nasa-api-key"
  description             = "api.nasa.gov API key (plain string), read by the Glue job as NASA_API_KEY"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret" "db_app" {
  #checkov:skip=CKV2_AWS_57:A rotation Lambda for the app user is outside this small stack; rotate by ALTER ROLE plus put-secret-value as docs/deploy-aws.md describes.
  name                    = "${var.project}/db-app-user"
  description             = "JSON {\"username\",\"password\"} of the least-privilege PostgreSQL user the ETL connects as"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret" "enricher_api_key" {
  #checkov:skip=CKV2_AWS_57:The key is shared with the Lightsail container's environment, which cannot read Secrets Manager; rotate by changing var.enricher_api_key and applying (both sides update together).
  name                    = "${var.project}/enricher-api-key"
  description             = "Bearer token the Glue job sends to the Lightsail image enricher"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "enricher_api_key" {
  secret_id = aws_secretsmanager_secret.enricher_api_key.id
  # Write-only: sent to AWS but never stored in the Terraform state. The version number comes
  # from a hash of the key so that changing the variable updates the secret (32 bits of a
  # SHA-256 of a 32+ character random key tell nothing about the key).
  secret_string_wo         = var.enricher_api_key
  secret_string_wo_version = parseint(substr(sha256(var.enricher_api_key), 0, 8), 16)
}

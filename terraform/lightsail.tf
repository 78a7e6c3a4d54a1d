# The image enricher on a Lightsail container service: HTTPS on the default
# https://<name>.<guid>.<region>.cs.amazonlightsail.com domain, no certificate to manage, and no
# AWS credentials inside (it only fetches NASA images). Every request needs the Bearer key.
# checkov has no Lightsail checks; the service's own hardening is image_enricher's job.

resource "aws_lightsail_container_service" "enricher" {
  name        = "${var.project}-enricher"
  power       = var.enricher_power
  scale       = var.enricher_scale
  is_disabled = false
}

resource "aws_lightsail_container_service_deployment_version" "enricher" {
  service_name = aws_lightsail_container_service.enricher.name

  container {
    container_name = "enricher"
    image          = var.enricher_image

    # Plain text in the Lightsail console and in the Terraform state (keep the state encrypted:
    # docs/deploy-aws.md); Lightsail containers cannot read Secrets Manager.
    environment = {
      ENRICHER_API_KEY = var.enricher_api_key
      PORT             = tostring(var.enricher_port)
    }

    ports = {
      (tostring(var.enricher_port)) = "HTTP"
    }
  }

  public_endpoint {
    container_name = "enricher"
    container_port = var.enricher_port

    health_check {
      path                = "/healthz"
      success_codes       = "200"
      interval_seconds    = 30
      timeout_seconds     = 5
      healthy_threshold   = 2
      unhealthy_threshold = 3
    }
  }
}

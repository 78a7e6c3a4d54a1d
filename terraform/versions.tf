terraform {
  # 1.11: write-only arguments (secret_string_wo) keep the enricher key out of the state file.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Pinned to the version the CI provider mirror holds (terraform init -plugin-dir).
      version = "5.100.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, { Project = var.project })
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# The two zones are named, not "the first two available": a zone AWS adds later must not move
# the subnets (and with them the database) on the next apply.
data "aws_availability_zones" "selected" {
  state = "available"

  filter {
    name   = "zone-name"
    values = [for suffix in var.availability_zone_suffixes : "${var.region}${suffix}"]
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  azs        = sort(data.aws_availability_zones.selected.names)
}

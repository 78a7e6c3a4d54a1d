# A VPC with two private subnets (RDS needs two AZs; the Glue job runs in the first) and one
# public subnet holding the NAT gateway. Glue ENIs only get private IPs: they reach api.nasa.gov,
# Lightsail, PyPI and the AWS APIs through NAT, and S3 through the gateway endpoint (free, and it
# keeps wheel downloads off the NAT's per-GB charge).

resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.project }
}

# Lock down the default security group: nothing should use it (CKV2_AWS_12).
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, count.index)
  availability_zone = local.azs[count.index]

  tags = { Name = "${var.project}-private-${local.azs[count.index]}" }
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, 15)
  availability_zone = local.azs[0]
  # The NAT gateway gets its Elastic IP explicitly; nothing else lives here (CKV_AWS_130).
  map_public_ip_on_launch = false

  tags = { Name = "${var.project}-public-${local.azs[0]}" }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id

  tags = { Name = var.project }
}

resource "aws_eip" "nat" {
  domain = "vpc"

  tags = { Name = "${var.project}-nat" }

  depends_on = [aws_internet_gateway.main]
}

# One NAT gateway, not one per AZ: a single daily batch job does not need zone redundancy and
# each gateway costs about 32 USD a month idle.
resource "aws_nat_gateway" "main" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id

  tags = { Name = var.project }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }

  tags = { Name = "${var.project}-public" }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.main.id
  }

  tags = { Name = "${var.project}-private" }
}

resource "aws_route_table_association" "private" {
  count          = 2
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]

  tags = { Name = "${var.project}-s3" }
}

# Rejected traffic only: enough to debug a blocked connection, cheap to keep (CKV2_AWS_11).
resource "aws_flow_log" "vpc" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "REJECT"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn
}

# --- security groups ---------------------------------------------------------------------
# Rules are separate aws_security_group_rule resources (the Glue and RDS groups refer to each
# other). Never mix `self` and CIDR blocks in one rule: checkov then misses the open CIDR.

resource "aws_security_group" "glue" {
  #checkov:skip=CKV2_AWS_5:False positive: the group is attached through aws_glue_connection.vpc, which checkov does not count as an attachment (checkov#6628).
  name        = "${var.project}-glue"
  description = "Glue job ENIs: talk to each other, to RDS, and to HTTPS endpoints through NAT"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.project}-glue" }
}

resource "aws_security_group_rule" "glue_self_ingress" {
  description       = "Glue requires a self-referencing all-TCP rule between its workers"
  type              = "ingress"
  security_group_id = aws_security_group.glue.id
  protocol          = "tcp"
  from_port         = 0
  to_port           = 65535
  self              = true
}

resource "aws_security_group_rule" "glue_self_egress" {
  description       = "Glue workers talk to each other"
  type              = "egress"
  security_group_id = aws_security_group.glue.id
  protocol          = "tcp"
  from_port         = 0
  to_port           = 65535
  self              = true
}

resource "aws_security_group_rule" "glue_https_egress" {
  description       = "HTTPS to api.nasa.gov, the Lightsail enricher, PyPI and AWS APIs via NAT"
  type              = "egress"
  security_group_id = aws_security_group.glue.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_security_group_rule" "glue_s3_egress" {
  description       = "HTTPS to S3 through the gateway endpoint"
  type              = "egress"
  security_group_id = aws_security_group.glue.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_ids   = [aws_vpc_endpoint.s3.prefix_list_id]
}

resource "aws_security_group_rule" "glue_to_rds" {
  description              = "PostgreSQL to the RDS instance"
  type                     = "egress"
  security_group_id        = aws_security_group.glue.id
  protocol                 = "tcp"
  from_port                = 5432
  to_port                  = 5432
  source_security_group_id = aws_security_group.rds.id
}

resource "aws_security_group" "rds" {
  name        = "${var.project}-rds"
  description = "RDS PostgreSQL: reachable only from the Glue job security group"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.project}-rds" }
}

resource "aws_security_group_rule" "rds_from_glue" {
  description              = "PostgreSQL from the Glue job only"
  type                     = "ingress"
  security_group_id        = aws_security_group.rds.id
  protocol                 = "tcp"
  from_port                = 5432
  to_port                  = 5432
  source_security_group_id = aws_security_group.glue.id
}

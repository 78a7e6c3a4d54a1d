"""The properties of terraform/ that matter, read with python-hcl2 (no AWS, no terraform binary)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from tests.deploy.terraform_tools import (
    REPO,
    TERRAFORM_DIR,
    inline_skips,
    pinned_aws_version,
    resources,
    skip_problem,
    terraform_files,
    variables,
)


def _one(resource_type: str, kind: str = "resource") -> dict[str, Any]:
    found = resources(resource_type, kind)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def _default(reference: Any) -> Any:
    """The default of ``${var.x}``, or the literal itself."""
    if isinstance(reference, str) and (m := re.fullmatch(r"\$\{var\.(\w+)\}", reference)):
        return variables()[m.group(1)]["default"]
    return reference


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document.get("statement", [])


# --- RDS ----------------------------------------------------------------------------------


def test_rds_is_private_encrypted_backed_up_and_protected() -> None:
    db = _one("aws_db_instance")
    assert db["publicly_accessible"] is False
    assert db["storage_encrypted"] is True
    assert db["kms_key_id"] == "${aws_kms_key.main.arn}"
    assert db["deletion_protection"] is True
    assert db["skip_final_snapshot"] is False
    assert _default(db["backup_retention_period"]) >= 7
    assert db["engine"] == "postgres" and int(_default(db["engine_version"])) >= 15
    assert db["db_subnet_group_name"] == "${aws_db_subnet_group.main.name}"
    assert _one("aws_db_subnet_group")["subnet_ids"] == "${aws_subnet.private[*].id}"


def test_rds_admin_password_is_managed_by_rds_and_never_in_terraform() -> None:
    db = _one("aws_db_instance")
    assert db["manage_master_user_password"] is True
    assert not {"password", "password_wo"} & set(db)


def test_rds_requires_tls() -> None:
    params = {p["name"]: p["value"] for p in _one("aws_db_parameter_group")["parameter"]}
    assert params["rds.force_ssl"] == "1"


def test_rds_is_reachable_only_from_the_glue_security_group() -> None:
    rules = resources("aws_security_group_rule")
    to_rds = [r for r in rules.values() if r["security_group_id"] == "${aws_security_group.rds.id}"]
    assert to_rds, "no rule on the RDS security group"
    for rule in to_rds:
        assert rule["type"] == "ingress"
        assert rule["source_security_group_id"] == "${aws_security_group.glue.id}"
        assert (rule["from_port"], rule["to_port"]) == (5432, 5432)
        assert "cidr_blocks" not in rule and "ipv6_cidr_blocks" not in rule
    assert _one("aws_db_instance")["vpc_security_group_ids"] == ["${aws_security_group.rds.id}"]


def test_no_security_group_rule_opens_all_ports_to_the_world() -> None:
    for name, rule in resources("aws_security_group_rule").items():
        if "0.0.0.0/0" in rule.get("cidr_blocks", []):
            assert rule["type"] == "egress" and rule["from_port"] == rule["to_port"] == 443, name
        assert not ("self" in rule and "cidr_blocks" in rule), f"{name} mixes self and CIDRs"


# --- network ------------------------------------------------------------------------------


def test_private_subnets_reach_out_through_nat_and_s3_through_a_gateway_endpoint() -> None:
    private = resources("aws_route_table")["private"]
    assert [r.get("nat_gateway_id") for r in private["route"]] == ["${aws_nat_gateway.main.id}"]
    endpoint = _one("aws_vpc_endpoint")
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert endpoint["service_name"].endswith(".s3")
    assert endpoint["route_table_ids"] == ["${aws_route_table.private.id}"]
    assert _one("aws_nat_gateway")["subnet_id"] == "${aws_subnet.public.id}"
    for subnet in resources("aws_subnet").values():
        assert subnet.get("map_public_ip_on_launch", False) is False


# --- IAM and policies ---------------------------------------------------------------------

# Actions that have no resource-level permissions, so "*" is the only possible resource.
UNSCOPABLE = {
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcEndpoints",
    "cloudwatch:PutMetricData",
}


@pytest.mark.parametrize("document", ["glue", "artifacts_bucket", "alerts_topic", "flow_logs"])
def test_policies_name_exact_resources(document: str) -> None:
    policy = resources("aws_iam_policy_document", kind="data")[document]
    for statement in _statements(policy):
        resources_ = statement["resources"]
        actions = statement["actions"]
        # Literal lists only: an expression would hide what it grants from this test.
        assert isinstance(resources_, list) and isinstance(actions, list), statement.get("sid")
        if "*" in resources_:
            assert set(actions) <= UNSCOPABLE, (document, statement.get("sid"))
        for action in actions:
            if action.startswith(("secretsmanager:", "s3:")):
                assert "*" not in resources_, (document, action)
                for arn in resources_:
                    assert re.fullmatch(
                        r"\$\{aws_(secretsmanager_secret\.\w+|s3_bucket\.artifacts)\.arn\}(/[\w-]+/\*|/\*)?",
                        arn,
                    ), f"{document}: {action} on {arn!r} is not an exact secret or bucket ARN"


def test_glue_reads_exactly_the_three_secrets_and_not_the_admin_one() -> None:
    policy = resources("aws_iam_policy_document", kind="data")["glue"]
    granted = [s for s in _statements(policy) if "secretsmanager:GetSecretValue" in s["actions"]]
    assert len(granted) == 1
    assert granted[0]["actions"] == ["secretsmanager:GetSecretValue"]
    assert sorted(granted[0]["resources"]) == sorted(
        f"${{aws_secretsmanager_secret.{name}.arn}}"
        for name in ("nasa_api_key", "db_app", "enricher_api_key")
    )
    assert "master_user_secret" not in str(policy)


def test_glue_role_gets_no_aws_managed_policy() -> None:
    """AWSGlueServiceRole would grant S3 on every aws-glue-* bucket: the role's policy is ours."""
    assert not resources("aws_iam_role_policy_attachment")
    assert not resources("aws_iam_policy_attachment")
    for name, role in resources("aws_iam_role").items():
        assert "managed_policy_arns" not in role, name


# --- secrets --------------------------------------------------------------------------------


def test_secrets_are_encrypted_with_the_stack_key_and_values_stay_out_of_terraform() -> None:
    secrets = resources("aws_secretsmanager_secret")
    assert set(secrets) == {"nasa_api_key", "db_app", "enricher_api_key"}
    for secret in secrets.values():
        assert secret["kms_key_id"] == "${aws_kms_key.main.arn}"
    versions = resources("aws_secretsmanager_secret_version")
    assert set(versions) == {"enricher_api_key"}  # the others are put by the operator
    assert "secret_string" not in versions["enricher_api_key"]  # write-only, not in state
    assert variables()["enricher_api_key"]["sensitive"] is True


# --- S3 -------------------------------------------------------------------------------------


def test_artifacts_bucket_is_encrypted_versioned_private_and_expires_old_versions() -> None:
    sse = _one("aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    assert _one("aws_s3_bucket_versioning")["versioning_configuration"][0]["status"] == "Enabled"
    block = _one("aws_s3_bucket_public_access_block")
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls"):
        assert block[flag] is True
    assert block["restrict_public_buckets"] is True
    rules = _one("aws_s3_bucket_lifecycle_configuration")["rule"]
    assert any("noncurrent_version_expiration" in r for r in rules)
    assert all(r["status"] == "Enabled" for r in rules)


# --- Glue -----------------------------------------------------------------------------------


def test_glue_job_is_glue_5_python_3_11_flex_two_workers() -> None:
    job = _one("aws_glue_job")
    assert job["glue_version"] == "5.0"
    command = job["command"][0]
    # Glue 5.0 + python_version "3" is Python 3.11, the Python the project requires.
    assert command["name"] == "glueetl" and command["python_version"] == "3"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11"
    assert job["execution_class"] == "FLEX"
    assert _default(job["number_of_workers"]) == 2
    assert 30 <= _default(job["timeout"]) <= 90
    assert _default(job["max_retries"]) >= 1
    assert job["security_configuration"] == "${aws_glue_security_configuration.main.name}"
    assert job["connections"] == ["${aws_glue_connection.vpc.name}"]
    assert job["execution_property"][0]["max_concurrent_runs"] == 1
    assert command["script_location"].endswith("/glue_entry.py")
    assert _one("aws_glue_connection")["connection_type"] == "NETWORK"


def _local(name: str) -> Any:
    for doc in terraform_files().values():
        for block in doc.get("locals", []):
            if name in block:
                return block[name]
    raise AssertionError(f"no local {name}")


def test_glue_job_arguments_carry_secret_arns_only() -> None:
    job = _one("aws_glue_job")
    assert job["default_arguments"].startswith("${merge(local.glue_arguments,")
    arguments = _local("glue_arguments")
    text = " ".join(map(str, arguments.values())) + job["default_arguments"]
    assert "secret_string" not in text and "var.enricher_api_key" not in text
    assert "password" not in text.replace("#password", "")
    assert arguments["--secrets"] == "${local.secret_arguments}"
    references = re.findall(r"\$\{(aws_[^}]*)\}", _local("secret_arguments"))
    assert len(references) == 4
    for reference in references:
        assert re.fullmatch(r"aws_secretsmanager_secret\.\w+\.arn", reference), reference
    assert arguments["--secret-providers"] == "aws-secrets-manager"
    assert "--additional-python-modules" in arguments
    assert arguments["--job-bookmark-option"] == "job-bookmark-disable"
    # The variables that could carry extra environment refuse secret-looking names.
    conditions = " ".join(v["condition"] for v in variables()["pipeline_environment"]["validation"])
    assert "KEY|PASS|PASSWORD|SECRET|TOKEN" in conditions


def test_daily_schedule_runs_after_apod_publishes() -> None:
    trigger = _one("aws_glue_trigger")
    assert trigger["type"] == "SCHEDULED"
    assert trigger["start_on_creation"] is True
    assert trigger["actions"][0]["job_name"] == "${aws_glue_job.etl.name}"
    schedule = _default(trigger["schedule"])
    match = re.fullmatch(r"cron\((\d+) (\d+) \* \* \? \*\)", schedule)
    assert match, f"{schedule!r} is not a daily 6-field cron"
    minute, hour = int(match.group(1)), int(match.group(2))
    # APOD's day starts at midnight US-Eastern: 04:00 UTC (EDT) or 05:00 UTC (EST).
    assert 5 * 60 < hour * 60 + minute < 12 * 60


# --- alerting and logs ------------------------------------------------------------------------


def test_glue_job_failure_alerts_an_encrypted_sns_topic() -> None:
    rule = _one("aws_cloudwatch_event_rule")
    pattern = rule["event_pattern"]
    assert '"aws.glue"' in pattern and '"Glue Job State Change"' in pattern
    for state in ("FAILED", "TIMEOUT", "ERROR"):
        assert f'"{state}"' in pattern
    assert "aws_glue_job.etl.name" in pattern
    target = _one("aws_cloudwatch_event_target")
    assert target["rule"] == "${aws_cloudwatch_event_rule.glue_job_failed.name}"
    assert target["arn"] == "${aws_sns_topic.alerts.arn}"
    assert _one("aws_sns_topic")["kms_master_key_id"] == "${aws_kms_key.main.arn}"


def test_every_log_group_has_retention_and_encryption() -> None:
    groups = resources("aws_cloudwatch_log_group")
    assert groups
    for name, group in groups.items():
        assert _default(group["retention_in_days"]) >= 365, name
        assert group["kms_key_id"] == "${aws_kms_key.main.arn}", name


def test_lightsail_runs_the_enricher_with_a_health_check() -> None:
    service = _one("aws_lightsail_container_service")
    deployment = _one("aws_lightsail_container_service_deployment_version")
    assert deployment["service_name"] == "${aws_lightsail_container_service.enricher.name}"
    assert _default(service["power"]) == "nano"
    endpoint = deployment["public_endpoint"][0]
    assert endpoint["health_check"][0]["path"] == "/healthz"


# --- variables, outputs, provider --------------------------------------------------------------


def test_every_variable_has_a_description_and_a_validation() -> None:
    for name, body in variables().items():
        assert body.get("description", "").strip(), f"variable {name} has no description"
        assert body.get("validation"), f"variable {name} has no validation"


def test_every_output_has_a_description() -> None:
    from tests.deploy.terraform_tools import blocks

    outputs = {name: body for block in blocks("output") for name, body in block.items()}
    assert {"glue_job_name", "artifacts_bucket", "secret_arns", "enricher_url"} <= set(outputs)
    for name, body in outputs.items():
        assert body.get("description", "").strip(), f"output {name} has no description"


def test_aws_provider_is_pinned_to_one_exact_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned_aws_version())


# --- inline checkov skips ----------------------------------------------------------------------


def test_every_inline_checkov_skip_has_a_real_reason() -> None:
    problems: list[str] = []
    total = 0
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        skips, found = inline_skips(path.read_text(), path.name)
        problems += found
        total += len(skips)
    assert not problems, "\n".join(problems)
    assert total > 0  # the parser finds the skips that are there


@pytest.mark.parametrize(
    "body",
    [
        "CKV_AWS_18",
        "CKV_AWS_18:",
        "CKV_AWS_18:   ",
        "CKV_AWS_18:TODO",
        "CKV2_AWS_57:todo add rotation if needed",
        "CKV_AWS_144:TO-DO Need to get this resolved",
        "CKV_AWS_144:FIXME before production please ok",
        "CKV_AWS_144:not needed",
        "CKV_AWS_144 no colon but words here",
        "aws_18:lowercase id is not a checkov id at all",
    ],
)
def test_skip_checker_rejects_empty_todo_and_malformed_reasons(body: str) -> None:
    assert skip_problem(body) is not None
    text = f'resource "x" "y" {{\n  #checkov:skip={body}\n}}\n'
    skips, problems = inline_skips(text, "x.tf")
    assert not skips and problems and problems[0].startswith("x.tf:2: ")


def test_skip_checker_accepts_a_reasoned_skip() -> None:
    body = "CKV2_AWS_57:A third-party API key; rotate it in the vendor dashboard, then put it."
    assert skip_problem(body) is None
    skips, problems = inline_skips(f"  # checkov:skip={body}\n", "x.tf")
    assert not problems and skips[0].check_id == "CKV2_AWS_57"

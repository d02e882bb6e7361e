"""A config with stages: config.py parses each stage and refuses a bad one naming `stages[i].<field>`; the schema
accepts and refuses the same documents (rules between fields excepted, as in test_config_schema.py)."""

from __future__ import annotations

import copy

import pytest
from cdk_mwaa_mlops.config import ConfigError, parse_config
from staged_config import DEV, PROD, STAGE_ACCOUNT, staged
from test_config_schema import schema_errors


def test_stages_are_parsed_in_order_with_their_deployments_and_checks():
    config = parse_config("demo.json", staged())
    dev, prod = config.stages
    assert (dev.name, dev.gate, dev.sample_rows) == ("dev", "automatic", 5)
    assert (prod.name, prod.gate, prod.account) == ("prod", None, STAGE_ACCOUNT)
    assert config.deploys and config.endpoint_name is None
    assert config.stage("prod") is prod and config.stage("qa") is None
    assert config.next_stage(dev) is prod and config.next_stage(prod) is None


def test_a_stage_view_deploys_the_stage_endpoint_with_its_model_role_and_key():
    config = parse_config("demo.json", staged())
    view = config.for_stage(config.stages[1])
    assert (view.mode, view.endpoint_name, view.role_arn) == ("real_time", "demo--prod", PROD["model_role_arn"])
    assert view.kms_key_arn == PROD["kms_key_id"] and view.traffic_shifting.type == "ALL_AT_ONCE"
    assert view.rollback_alarm_names == ("demo--prod-invocation-5xx", "demo--prod-model-latency")
    dev = config.for_stage(config.stages[0])
    assert (dev.mode, dev.endpoint_name, dev.rollback_alarm_names) == ("serverless", "demo--dev", ())


def test_a_gate_left_out_before_another_stage_is_manual():
    document = staged()
    del document["stages"][0]["gate"]
    assert parse_config("demo.json", document).stages[0].gate == "manual"
    assert schema_errors(document) == []


def changed(index: int, path: str, value) -> dict:
    document = staged()
    *parents, last = path.split(".")
    target = document["stages"][index]
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return document


BAD_STAGES = [
    (1, "checks.max_error_rate", 1.5, "stages[1].checks.max_error_rate must be between 0 and 1"),
    (0, "checks.sample_rows", 0, "stages[0].checks.sample_rows must be between 1 and 1000"),
    (1, "checks.max_latency_ms", "1s", "stages[1].checks.max_latency_ms must be int"),
    (1, "name", "Prod", "stages[1].name must match"),
    (1, "name", "a" * 13, "stages[1].name must be at most 12 characters"),
    (1, "account", "21098765432", "stages[1].account must match"),
    (1, "region", "europe", "stages[1].region must match"),
    (1, "role_arn", "mlops-demo--prod-deploy", "stages[1].role_arn must match"),
    (1, "model_role_arn", ..., "stages[1].model_role_arn is required"),
    (0, "kms_key_id", "alias/mlops-demo--dev", "stages[0].kms_key_id must match"),
    (0, "gate", "sometimes", "stages[0].gate must be one of ['manual', 'automatic']"),
    (1, "deployment.mode", "none", "stages[1].deployment.mode must be one of ['real_time', 'serverless']"),
    (1, "deployment.endpoint_name", ..., "stages[1].deployment.endpoint_name is required"),
    (1, "deployment.traffic_shifting", {"type": "LINEAR", "step_percent": 60}, "stages[1].deployment.traffic_shifting"),
    (1, "checks.max_eror_rate", 0.1, "unknown key(s) ['max_eror_rate'] in stages[1].checks"),
    (1, "gaet", "manual", "unknown key(s) ['gaet'] in stages[1]"),
    (1, "checks", ..., "stages[1].checks is required"),
]
#: rules between fields (or stages) that JSON Schema cannot state: config.py alone enforces them (and ModelWorkflow)
CROSS_FIELD = {("name", "dev"), ("gate", "manual")}


@pytest.mark.parametrize("index, path, value, message", BAD_STAGES)
def test_a_bad_stage_names_the_stage_and_field_and_the_schema_refuses_it_too(index, path, value, message):
    document = changed(index, path, value)
    with pytest.raises(ConfigError) as error:
        parse_config("demo.json", document)
    assert str(error.value).startswith("demo.json: ") and message in str(error.value), str(error.value)
    assert schema_errors(document), f"stages[{index}].{path}={value!r} passes the schema"


@pytest.mark.parametrize(
    "index, path, value, message",
    [
        (1, "name", "dev", "stages[1].name is the name of an earlier stage"),
        (1, "gate", "manual", "stages[1].gate must be left out on the last stage"),
    ],
)
def test_rules_between_stages_are_config_py_s_alone(index, path, value, message):
    document = changed(index, path, value)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config("demo.json", document)
    assert schema_errors(document) == [], "a rule the schema can express belongs in the schema"


def test_stages_replace_the_deployment_section_and_are_one_to_five():
    both = staged()
    both["deployment"] = {"endpoint_name": "demo"}
    with pytest.raises(ConfigError, match="deployment must be left out when the config has stages"):
        parse_config("demo.json", both)
    assert schema_errors(both)
    for stages in ([], [copy.deepcopy(DEV) | {"name": f"s{i}"} for i in range(6)]):
        document = staged()
        document["stages"] = stages
        with pytest.raises(ConfigError, match=r"stages must list 1 to 5 stages"):
            parse_config("demo.json", document)
        assert schema_errors(document)


def test_a_staged_config_is_schema_valid():
    assert schema_errors(staged()) == []
    assert schema_errors(staged(PROD)) == []
    parse_config("demo.json", staged(PROD))

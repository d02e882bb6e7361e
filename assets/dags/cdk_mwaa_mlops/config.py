"""Pipeline configs: one JSON file per pipeline, written by the construct beside the DAG file.

Reading them is the only thing the DAG file does at parse time: no AWS calls, no network. A config that is
wrong fails the import with the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

CONFIG_VERSION = 1
PIPELINE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PIPELINE_NAME_MAX = 24
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
S3_PREFIX = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(.*/)?$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[\w-]+$")
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
GLUE_JOB_NAME = re.compile(r"^[\w.-]{1,255}$")
COMPARISONS = ("GreaterThanOrEqualTo", "LessThanOrEqualTo")
TRAFFIC_SHIFTING = ("ALL_AT_ONCE", "CANARY", "LINEAR")
MODES = ("real_time", "serverless", "none")
STAGE_MODES = ("real_time", "serverless")
#: A stage's name is its model registry lifecycle stage and part of its endpoint's and roles' names (stage-names.ts).
STAGE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
STAGE_NAME_MAX = 12
MAX_STAGES = 5
GATES = ("manual", "automatic")
ACCOUNT = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
KMS_KEY_ID = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[\w-]+|alias/[\w/+=,.@-]+)$")
ECR_IMAGE_URI = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/.+[:@].+$")
S3_OBJECT = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+[^/]$")
KEY_PREFIX = re.compile(r"^([\w!.*'()-]+/)+$")
#: PutMetricData's Namespace: ASCII letters, digits and `._-/#: `, not starting with `:` nor `AWS/`
METRIC_NAMESPACE = re.compile(r"^(?!AWS/)[A-Za-z0-9._/#-][A-Za-z0-9._/#: -]{0,254}$")


class ConfigError(ValueError):
    """A pipeline config that cannot be used; the message names the file and the key."""


class _Section:
    """Typed access to one JSON object, with errors that say where."""

    def __init__(self, source: str, path: str, values: Any):
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: {path or 'the config'} must be a JSON object (got {_show(values)})")
        self.source, self.path, self.values = source, path, values
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.where(key)} {problem} (got {_show(self.values.get(key))})")

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        pattern: re.Pattern | None = None,
        choices: tuple | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> Any:
        self.used.add(key)
        if key not in self.values or self.values[key] is None:
            if default is ...:
                raise ConfigError(f"{self.source}: {self.where(key)} is required")
            return default
        value = self.values[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise self.fail(key, f"must be {' or '.join(k.__name__ for k in kinds)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(key, f"must match {pattern.pattern}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"must be one of {list(choices)}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise self.fail(key, f"must be between {minimum} and {maximum}")
        return value

    def section(self, key: str, required: bool = True) -> _Section | None:
        self.used.add(key)
        if key not in self.values or self.values[key] is None:
            if required:
                raise ConfigError(f"{self.source}: {self.where(key)} is required")
            return None
        return _Section(self.source, self.where(key), self.values[key])

    def done(self) -> None:
        unknown = sorted(set(self.values) - self.used)
        if unknown:
            where = f" in {self.path}" if self.path else ""
            raise ConfigError(f"{self.source}: unknown key(s) {unknown}{where}; check the spelling against the config reference")


def _show(value: Any) -> str:
    text = json.dumps(value) if value is not None else "nothing"
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class TrafficShifting:
    type: str = "CANARY"
    step_percent: int = 10
    wait_seconds: int = 300


@dataclass(frozen=True)
class Stage:
    """A deployment stage: the endpoint it deploys in its account, the checks its deployment must pass and the gate
    to the next stage (none on the last)."""

    name: str
    account: str
    region: str
    #: the role the deployment runs assume in the stage's account
    role_arn: str
    #: the SageMaker execution role of the stage's models
    model_role_arn: str
    #: the key (an alias ARN) that encrypts the endpoint's storage
    kms_key_id: str
    gate: str | None
    sample_rows: int
    max_error_rate: float
    max_latency_ms: int
    #: the stage's deployment section, as PipelineConfig's deployment fields (PipelineConfig.for_stage applies them)
    deployment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DriftConfig:
    """Drift detection (assets/drift/README.md): the endpoint captures its traffic, training writes the model's
    baseline, and the drift DAG compares the two."""

    #: where the endpoint's captures go: s3://<data bucket>/<capture_prefix><endpoint>/<variant>/...
    capture_prefix: str
    #: the image the baseline and check processing jobs run on (Python 3.9+ with numpy and scipy)
    image_uri: str
    #: drift_check.py, staged by the construct
    script_uri: str
    #: where the check publishes: one namespace per pipeline (CdkMwaaMlops/Drift/<pipeline>), the only scope
    #: PutMetricData's IAM condition keys offer
    metric_namespace: str
    sampling_percentage: int = 100
    instance_type: str = "ml.m5.large"
    max_runtime_seconds: int = 3600
    baseline_sample_rows: int = 10000
    psi_threshold: float = 0.2
    ks_alpha: float = 0.05
    min_rows: int = 100
    #: after a training job of the pipeline started, how long a drift alarm's run trains nothing
    cool_down_seconds: int = 86400


@dataclass(frozen=True)
class PipelineConfig:
    source: str
    pipeline_name: str
    data_bucket: str
    raw_prefix: str
    processed_prefix: str
    artifacts_prefix: str
    checkpoints_prefix: str
    glue_job_name: str
    script_prefix: str
    image_repository_name: str
    role_arn: str
    model_package_group_name: str
    endpoint_name: str | None = None
    aws_conn_id: str = "aws_default"
    notification_topic_arn: str | None = None
    kms_key_arn: str | None = None
    max_active_runs: int = 1
    retries: int = 2
    poll_interval_seconds: int = 60
    split_seed: int = 42
    train_fraction: float = 0.7
    validation_fraction: float = 0.15
    training_instance_type: str = "ml.m5.large"
    training_instance_count: int = 1
    training_volume_gb: int = 30
    training_max_runtime_seconds: int = 3600
    hyperparameters: dict[str, str] = field(default_factory=dict)
    #: managed spot training: the longest a job may wait for and run on spot capacity (None: on-demand)
    spot_max_wait_seconds: int | None = None
    evaluation_instance_type: str = "ml.m5.large"
    metric: str = "auc"
    threshold: float = 0.9
    comparison: str = "GreaterThanOrEqualTo"
    auto_approve: bool = False
    mode: str = "real_time"
    instance_type: str = "ml.m5.large"
    initial_instance_count: int = 1
    traffic_shifting: TrafficShifting = field(default_factory=TrafficShifting)
    termination_wait_seconds: int = 300
    rollback_alarm_names: tuple[str, ...] = ()
    serverless_memory_mb: int = 2048
    serverless_max_concurrency: int = 5
    #: deployment stages in promotion order; with stages there is no top-level deployment section
    stages: tuple[Stage, ...] = ()
    #: drift detection (only with a real-time deployment and no stages); None when off
    drift: DriftConfig | None = None

    @property
    def deploys(self) -> bool:
        """Whether the pipeline deploys approved packages to an endpoint (mode `none`: registry only)."""
        return bool(self.stages) or self.mode != "none"

    def stage(self, name: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.name == name), None)

    def next_stage(self, stage: Stage) -> Stage | None:
        index = self.stages.index(stage)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None

    def for_stage(self, stage: Stage) -> PipelineConfig:
        """This config as the stage's deployment sees it: the stage's endpoint settings, its model role (what the
        models run as) and its storage key."""
        return replace(self, **stage.deployment, role_arn=stage.model_role_arn, kms_key_arn=stage.kms_key_id, stages=())

    @property
    def training_dag_id(self) -> str:
        return f"{self.pipeline_name}_training"

    @property
    def deployment_dag_id(self) -> str:
        return f"{self.pipeline_name}_deployment"

    @property
    def drift_dag_id(self) -> str | None:
        return f"{self.pipeline_name}_drift" if self.drift else None


def parse_config(source: str, document: Any) -> PipelineConfig:
    root = _Section(source, "", document)
    version = root.get("config_version", int)
    if version != CONFIG_VERSION:
        raise root.fail("config_version", f"is not supported by these DAGs (they read version {CONFIG_VERSION})")
    name = root.get("pipeline_name", str, pattern=PIPELINE_NAME)
    if len(name) > PIPELINE_NAME_MAX:
        raise root.fail("pipeline_name", f"must be at most {PIPELINE_NAME_MAX} characters (SageMaker names derive from it)")
    values: dict[str, Any] = {
        "source": source,
        "pipeline_name": name,
        "aws_conn_id": root.get("aws_conn_id", str, "aws_default"),
        "notification_topic_arn": root.get("notification_topic_arn", str, None, pattern=TOPIC_ARN),
        "max_active_runs": root.get("max_active_runs", int, 1, minimum=1, maximum=16),
        "retries": root.get("retries", int, 2, minimum=0, maximum=10),
        "poll_interval_seconds": root.get("poll_interval_seconds", int, 60, minimum=1, maximum=3600),
    }

    data = root.section("data")
    values["data_bucket"] = data.get("bucket", str, pattern=re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))
    prefixes = (
        ("raw_prefix", "raw/"),
        ("processed_prefix", "processed/"),
        ("artifacts_prefix", "artifacts/"),
        ("checkpoints_prefix", "checkpoints/"),
    )
    for key, default in prefixes:
        values[key] = data.get(key, str, default, pattern=re.compile(r"^([\w!.*'()-]+/)*$"))
    values["kms_key_arn"] = data.get("kms_key_arn", str, None, pattern=KMS_KEY_ARN)
    data.done()

    prep = root.section("preprocessing")
    values["glue_job_name"] = prep.get("glue_job_name", str, pattern=GLUE_JOB_NAME)
    values["script_prefix"] = prep.get("script_prefix", str, pattern=S3_PREFIX)
    values["split_seed"] = prep.get("seed", int, 42)
    values["train_fraction"] = prep.get("train_fraction", (int, float), 0.7, minimum=0.05, maximum=0.95)
    values["validation_fraction"] = prep.get("validation_fraction", (int, float), 0.15, minimum=0.01, maximum=0.9)
    if values["train_fraction"] + values["validation_fraction"] >= 1:
        raise prep.fail("validation_fraction", "plus train_fraction must be below 1, to leave a test split")
    prep.done()

    training = root.section("training")
    values["image_repository_name"] = training.get(
        "image_repository_name", str, pattern=re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*$")
    )
    values["role_arn"] = training.get("role_arn", str, pattern=ROLE_ARN)
    values["training_instance_type"] = training.get("instance_type", str, "ml.m5.large", pattern=INSTANCE_TYPE)
    values["training_instance_count"] = training.get("instance_count", int, 1, minimum=1, maximum=100)
    values["training_volume_gb"] = training.get("volume_size_gb", int, 30, minimum=1, maximum=16384)
    values["training_max_runtime_seconds"] = training.get("max_runtime_seconds", int, 3600, minimum=60, maximum=28 * 24 * 3600)
    hyperparameters = training.get("hyperparameters", dict, {})
    if not all(isinstance(v, str) for v in hyperparameters.values()):
        raise training.fail("hyperparameters", "must map names to strings (SageMaker passes hyperparameters as strings)")
    values["hyperparameters"] = hyperparameters
    spot = training.section("spot", required=False)
    if spot is not None:
        values["spot_max_wait_seconds"] = spot.get("max_wait_seconds", int, minimum=60, maximum=28 * 24 * 3600)
        if values["spot_max_wait_seconds"] < values["training_max_runtime_seconds"]:
            raise spot.fail("max_wait_seconds", "must be at least training.max_runtime_seconds (SageMaker's rule for spot jobs)")
        spot.done()
    training.done()

    evaluation = root.section("evaluation")
    values["evaluation_instance_type"] = evaluation.get("instance_type", str, "ml.m5.large", pattern=INSTANCE_TYPE)
    values["metric"] = evaluation.get("metric", str, "auc", pattern=re.compile(r"^[a-z0-9_]+$"))
    values["threshold"] = evaluation.get("threshold", (int, float))
    values["comparison"] = evaluation.get("comparison", str, "GreaterThanOrEqualTo", choices=COMPARISONS)
    evaluation.done()

    registry = root.section("registry")
    values["model_package_group_name"] = registry.get("model_package_group_name", str, pattern=SAGEMAKER_NAME)
    values["auto_approve"] = registry.get("auto_approve", bool, False)
    registry.done()

    if "stages" in document and document.get("stages") is not None:
        if "deployment" in document:
            raise root.fail("deployment", "must be left out when the config has stages (each stage has its own deployment)")
        values["stages"] = _stages(root, root.get("stages", list))
    else:
        values.update(_deployment(root.section("deployment"), MODES))
    drift = root.section("drift", required=False)
    if drift is not None:
        if values.get("stages"):
            raise root.fail("drift", "must be left out when the config has stages (drift detection checks one endpoint)")
        if values["mode"] != "real_time":
            raise root.fail(
                "drift",
                f"needs deployment.mode real_time (got {values['mode']!r}): only real-time endpoints capture their traffic",
            )
        values["drift"] = _drift(drift)
    root.done()
    return PipelineConfig(**values)


def _drift(drift: _Section) -> DriftConfig:
    parsed = DriftConfig(
        capture_prefix=drift.get("capture_prefix", str, pattern=KEY_PREFIX),
        sampling_percentage=drift.get("sampling_percentage", int, 100, minimum=1, maximum=100),
        image_uri=drift.get("image_uri", str, pattern=ECR_IMAGE_URI),
        script_uri=drift.get("script_uri", str, pattern=S3_OBJECT),
        instance_type=drift.get("instance_type", str, "ml.m5.large", pattern=INSTANCE_TYPE),
        max_runtime_seconds=drift.get("max_runtime_seconds", int, 3600, minimum=60, maximum=24 * 3600),
        baseline_sample_rows=drift.get("baseline_sample_rows", int, 10000, minimum=100, maximum=1_000_000),
        psi_threshold=drift.get("psi_threshold", (int, float), 0.2, minimum=0.001, maximum=10),
        ks_alpha=drift.get("ks_alpha", (int, float), 0.05, minimum=0.0001, maximum=0.5),
        min_rows=drift.get("min_rows", int, 100, minimum=1, maximum=1_000_000),
        cool_down_seconds=drift.get("cool_down_seconds", int, 86400, minimum=0, maximum=90 * 24 * 3600),
        metric_namespace=drift.get("metric_namespace", str, pattern=METRIC_NAMESPACE),
    )
    drift.done()
    return parsed


def _deployment(deployment: _Section, modes: tuple[str, ...]) -> dict[str, Any]:
    """A deployment section's values (the top-level one, or a stage's), as PipelineConfig's deployment fields."""
    values: dict[str, Any] = {}
    values["mode"] = deployment.get("mode", str, "real_time", choices=modes)
    if values["mode"] == "none":
        values["endpoint_name"] = deployment.get("endpoint_name", str, None, pattern=SAGEMAKER_NAME)
    else:
        values["endpoint_name"] = deployment.get("endpoint_name", str, pattern=SAGEMAKER_NAME)
    values["instance_type"] = deployment.get("instance_type", str, "ml.m5.large", pattern=INSTANCE_TYPE)
    values["initial_instance_count"] = deployment.get("initial_instance_count", int, 1, minimum=1, maximum=100)
    values["termination_wait_seconds"] = deployment.get("termination_wait_seconds", int, 300, minimum=0, maximum=3600)
    alarms = deployment.get("rollback_alarm_names", list, [])
    if len(alarms) > 10 or not all(isinstance(a, str) and 0 < len(a) <= 255 for a in alarms):
        raise deployment.fail("rollback_alarm_names", "must be a list of at most 10 CloudWatch alarm names")
    values["rollback_alarm_names"] = tuple(alarms)
    values["serverless_memory_mb"] = deployment.get(
        "serverless_memory_mb", int, 2048, choices=(1024, 2048, 3072, 4096, 5120, 6144)
    )
    values["serverless_max_concurrency"] = deployment.get("serverless_max_concurrency", int, 5, minimum=1, maximum=200)
    shifting = deployment.section("traffic_shifting", required=False)
    if shifting is not None:
        # SageMaker's TrafficRoutingConfig: a canary is at most 50% of the fleet, a linear step 10-50%.
        values["traffic_shifting"] = TrafficShifting(
            type=shifting.get("type", str, "CANARY", choices=TRAFFIC_SHIFTING),
            step_percent=shifting.get("step_percent", int, 10, minimum=1, maximum=50),
            wait_seconds=shifting.get("wait_seconds", int, 300, minimum=0, maximum=3600),
        )
        if values["traffic_shifting"].type == "LINEAR" and values["traffic_shifting"].step_percent < 10:
            raise shifting.fail("step_percent", "must be between 10 and 50 for LINEAR traffic shifting")
        shifting.done()
    deployment.done()
    return values


def _stages(root: _Section, stages: list) -> tuple[Stage, ...]:
    if not 1 <= len(stages) <= MAX_STAGES:
        raise root.fail("stages", f"must list 1 to {MAX_STAGES} stages")
    parsed: list[Stage] = []
    for index, document in enumerate(stages):
        stage = _Section(root.source, f"stages[{index}]", document)
        name = stage.get("name", str, pattern=STAGE_NAME)
        if len(name) > STAGE_NAME_MAX:
            raise stage.fail("name", f"must be at most {STAGE_NAME_MAX} characters (SageMaker names derive from it)")
        if any(earlier.name == name for earlier in parsed):
            raise stage.fail("name", "is the name of an earlier stage; each stage needs its own")
        last = index == len(stages) - 1
        gate = stage.get("gate", str, None, choices=GATES)
        if last and gate is not None:
            raise stage.fail("gate", "must be left out on the last stage (no stage follows it)")
        if not last and gate is None:
            gate = "manual"
        checks = stage.section("checks")
        deployment = _deployment(stage.section("deployment"), STAGE_MODES)
        parsed.append(
            Stage(
                name=name,
                account=stage.get("account", str, pattern=ACCOUNT),
                region=stage.get("region", str, pattern=REGION),
                role_arn=stage.get("role_arn", str, pattern=ROLE_ARN),
                model_role_arn=stage.get("model_role_arn", str, pattern=ROLE_ARN),
                kms_key_id=stage.get("kms_key_id", str, pattern=KMS_KEY_ID),
                gate=gate,
                sample_rows=checks.get("sample_rows", int, 20, minimum=1, maximum=1000),
                max_error_rate=checks.get("max_error_rate", (int, float), 0, minimum=0, maximum=1),
                max_latency_ms=checks.get("max_latency_ms", int, 1000, minimum=1, maximum=60000),
                deployment=deployment,
            )
        )
        checks.done()
        stage.done()
    return tuple(parsed)


def load_configs(directory: Path) -> list[PipelineConfig]:
    """Every `*.json` in `directory`, sorted by file name; two configs may not share a pipeline name."""
    configs: list[PipelineConfig] = []
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path.name}: not valid JSON ({error})") from None
        configs.append(parse_config(path.name, document))
    seen: dict[str, str] = {}
    for config in configs:
        if config.pipeline_name in seen:
            raise ConfigError(
                f"{config.source}: pipeline_name '{config.pipeline_name}' is also used by {seen[config.pipeline_name]}"
            )
        seen[config.pipeline_name] = config.source
    return configs

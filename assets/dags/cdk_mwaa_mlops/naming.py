"""Names derived from the DAG run, so a run always finds what it created and two runs never collide."""

from __future__ import annotations

import hashlib
import json
import re

RUN_ID_CHARS = re.compile(r"[^A-Za-z0-9_.~:+-]")


def run_key(dag_id: str, run_id: str) -> str:
    """12 hex characters that identify one DAG run (its run id may hold characters names cannot)."""
    return hashlib.sha256(f"{dag_id}/{run_id}".encode()).hexdigest()[:12]


def resource_name(pipeline_name: str, stage: str, key: str) -> str:
    """A SageMaker resource name: `<pipeline>-<stage>-<run key>`, at most 63 characters with room for suffixes."""
    return f"{pipeline_name}-{stage}-{key}"


def client_token(dag_id: str, run_id: str, purpose: str) -> str:
    """An idempotency token (SageMaker: `[a-zA-Z0-9-]{1,36}`): a retried call returns what the first one made."""
    return hashlib.sha256(f"{dag_id}/{run_id}/{purpose}".encode()).hexdigest()[:36]


def model_package_run_id(
    arn: str,
    group: str,
    version: int | None,
    status: str,
    modified_ms: int | None = None,
    stage: str | None = None,
    stage_status: str | None = None,
) -> str:
    """The run id the trigger Lambda gives a model package state change (`runId` in dag-run-request.ts).

    The training DAG starts its deployment with the same id, so when the registry's approval event also reaches
    the trigger, Airflow answers 409 to whichever comes second and the package is deployed once. `modified_ms` is
    the state change's time (`state_change_millis`): approving a package again is a new change and a new run.
    `stage` and `stage_status` are the package's `ModelLifeCycle` when the change is a change of its lifecycle (the
    event's `UpdatedModelPackageFields` names `ModelLifeCycle`); leave them out for an approval.
    """
    if (stage is None) != (stage_status is None):
        raise ValueError(f"model_package_run_id: give both stage and stage_status or neither (got {stage!r}, {stage_status!r})")
    parts: list[object] = [arn, status] if modified_ms is None else [arn, status, modified_ms]
    package = f"{group}.v{version}" if version is not None else arn.split("/")[-1]
    label = f"{package}.{status}"
    if stage is not None:
        parts += [stage, stage_status]
        label = f"{package}.{stage}.{stage_status}"
    identity = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
    return f"model_package_state_change__{RUN_ID_CHARS.sub('-', label)[:80]}__{digest}"


#: StartWorkflowRun's ClientToken (MWAA Serverless): 1-128 characters of `[\x21-\x7E]` (botocore model).
CLIENT_TOKEN_MAX = 128


def workflow_client_token(run_id: str) -> str:
    """The ClientToken that starts an MWAA Serverless workflow run for what `run_id` names in a provisioned environment.

    A run id that fits is the token; a longer one (a model package run id with a long group name reaches 130
    characters) keeps its first 107 characters and ends with `-` and 20 hex characters of its SHA-256, so the token
    stays unique and deterministic. The trigger Lambda must map run ids to tokens by the same rule.
    """
    if len(run_id) <= CLIENT_TOKEN_MAX:
        return run_id
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:20]
    return f"{run_id[: CLIENT_TOKEN_MAX - 21]}-{digest}"


def state_change_millis(package: dict) -> int | None:
    """The time of a package's last state change as the registry's event carries it (epoch milliseconds).

    From a DescribeModelPackage answer: `LastModifiedTime`, else `CreationTime` (the trigger Lambda reads the event's
    fields in the same order).
    """
    moment = package.get("LastModifiedTime") or package.get("CreationTime")
    if moment is None:
        return None
    if isinstance(moment, (int, float)):
        return round(moment)
    return round(moment.timestamp() * 1000)

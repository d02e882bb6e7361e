"""Reads a synthesized cloud assembly the way a deployment would see it: every CloudFormation intrinsic resolved to a
deterministic physical value, so the DAG config a construct wrote and the IAM policies it synthesized can be used
by a real Airflow and a real IAM evaluator. Physical names are derived from logical ids (a bucket `DataBucketX`
becomes `databucketx`), the way CloudFormation would name them, only predictable."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def synthesize(app: str, outdir: Path) -> Path:
    """Runs a TypeScript CDK app (path relative to the repository) into `outdir`."""
    subprocess.run(
        ["npx", "ts-node", "--transpile-only", app],
        cwd=ROOT,
        env={**__import__("os").environ, "CDK_OUTDIR": str(outdir), "TS_NODE_PROJECT": "tsconfig.dev.json"},
        check=True,
        capture_output=True,
        text=True,
    )
    return outdir


@dataclass
class Stack:
    assembly: Path
    name: str
    account: str
    region: str

    def __post_init__(self):
        self.template = json.loads((self.assembly / f"{self.name}.template.json").read_text())
        self.resources: dict[str, Any] = self.template["Resources"]

    # ---- physical values -------------------------------------------------------------------------------------------
    def name_of(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props, kind = resource.get("Properties", {}), resource["Type"]
        explicit = {
            "AWS::S3::Bucket": "BucketName",
            "AWS::ECR::Repository": "RepositoryName",
            "AWS::Glue::Job": "Name",
            "AWS::SNS::Topic": "TopicName",
            "AWS::CloudWatch::Alarm": "AlarmName",
            "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
            "AWS::MWAA::Environment": "Name",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::IAM::Role": "RoleName",
            "AWS::Glue::SecurityConfiguration": "Name",
            "AWS::MWAAServerless::Workflow": "Name",
        }.get(kind)
        if explicit and explicit in props:
            return self.resolve(props[explicit])
        if kind in ("AWS::S3::Bucket", "AWS::ECR::Repository"):
            return logical_id.lower()
        return logical_id

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.name}/"
            + str(uuid.uuid5(uuid.NAMESPACE_URL, self.name)),
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::KMS::Key":
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/{logical_id}"))
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{self.name_of(logical_id)}"
        if kind == "AWS::MWAAServerless::Workflow":  # its primary identifier is its ARN
            return self.get_att(logical_id, "WorkflowArn")
        return self.name_of(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.name_of(logical_id)
        if kind == "AWS::MWAAServerless::Workflow" and attribute == "WorkflowArn":
            # the service appends a 10-character suffix to the name; a deterministic one here
            suffix = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/{logical_id}").hex[:10]
            return f"arn:aws:airflow-serverless:{self.region}:{self.account}:workflow/{name}-{suffix}"
        arns = {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{self.region}:{self.account}:key/{self.ref(logical_id)}",
            "AWS::ECR::Repository": f"arn:aws:ecr:{self.region}:{self.account}:repository/{name}",
            "AWS::CloudWatch::Alarm": f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{name}",
            "AWS::SNS::Topic": self.ref(logical_id),
            "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}:*",
            "AWS::SageMaker::ModelPackageGroup": f"arn:aws:sagemaker:{self.region}:{self.account}:model-package-group/{name}",
            "AWS::MWAA::Environment": f"arn:aws:airflow:{self.region}:{self.account}:environment/{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{self.region}:{self.account}:function:{name}",
        }
        if attribute in ("Arn", "ModelPackageGroupArn", "TopicArn"):
            return arns[kind]
        if attribute == "RepositoryUri":
            return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{name}"
        return f"{logical_id}.{attribute}"

    # ---- intrinsics --------------------------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1)))
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(part)) for part in arg[1])
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return re.sub(
                    r"\$\{([^}]+)\}",
                    lambda m: str(self.resolve(variables[m[1]]) if m[1] in variables else self._sub_name(m[1])),
                    text,
                )
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(arg[0])]
            if key == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if key == "Fn::FindInMap":
                mapping, top, second = (self.resolve(part) for part in arg)
                return self.template["Mappings"][mapping][top][second]
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_name(self, name: str) -> str:
        return self.get_att(*name.split(".", 1)) if "." in name else self.ref(name)

    # ---- what the proofs need ------------------------------------------------------------------------------------------
    def output(self, name: str) -> Any:
        return self.resolve(self.template["Outputs"][name]["Value"])

    def role_policies(self, role_logical_id: str) -> list[dict[str, Any]]:
        """The resolved documents of every policy attached to the role (inline policies of AWS::IAM::Policy)."""
        documents = []
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::IAM::Policy":
                continue
            if {"Ref": role_logical_id} in resource["Properties"].get("Roles", []):
                documents.append({"name": logical_id, "policy": self.resolve(resource["Properties"]["PolicyDocument"])})
        return documents

    def dag_files(self, folder: str) -> list[str]:
        """The paths of the files a DAG deployment of this stack writes below `folder` of the DAG folder."""
        found = []
        for resource in self.resources.values():
            if resource["Type"] == "Custom::CDKBucketDeployment":
                for key in resource["Properties"]["SourceObjectKeys"]:
                    directory = self.assembly / f"asset.{key.removesuffix('.zip')}"
                    found += [str(p.relative_to(directory)) for p in (directory / folder).glob("*.json")]
        return sorted(found)

    def dag_file(self, path_in_dag_folder: str) -> str:
        """A file the environment's DAG deployment writes, with its deploy-time markers replaced by resolved values."""
        for resource in self.resources.values():
            if resource["Type"] != "Custom::CDKBucketDeployment":
                continue
            props = resource["Properties"]
            for index, key in enumerate(props["SourceObjectKeys"]):
                file = self.assembly / f"asset.{key.removesuffix('.zip')}" / path_in_dag_folder
                if file.exists():
                    text = file.read_text()
                    for marker, value in (props.get("SourceMarkers") or [{}] * (index + 1))[index].items():
                        text = text.replace(marker, str(self.resolve(value)))
                    return text
        raise FileNotFoundError(f"{path_in_dag_folder} is not deployed by {self.name}")

    def resource_policies(self) -> dict[str, Any]:
        """Resource ARN -> its resolved resource policy: KMS key policies, bucket policies, topic policies."""
        policies: dict[str, Any] = {}
        for logical_id, resource in self.resources.items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::KMS::Key":
                policies[self.get_att(logical_id, "Arn")] = self.resolve(props["KeyPolicy"])
            elif resource["Type"] == "AWS::S3::BucketPolicy":
                policies[f"arn:aws:s3:::{self.resolve(props['Bucket'])}"] = self.resolve(props["PolicyDocument"])
            elif resource["Type"] == "AWS::SNS::TopicPolicy":
                for topic in props["Topics"]:
                    policies[self.resolve(topic)] = self.resolve(props["PolicyDocument"])
        return policies

"""The EventBridge rules of a synthesized stack, with their patterns resolved to the values a deployment would have
(cloud_assembly.Stack names resources deterministically), and what each rule's raw pattern refers to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cloud_assembly import Stack

ACCOUNT, REGION = "123456789012", "eu-west-1"


class DeployedStack(Stack):
    """cloud_assembly.Stack, plus the ARN of a CodeCommit repository (the source rules of new repositories use it)."""

    def get_att(self, logical_id: str, attribute: str) -> str:
        if self.resources[logical_id]["Type"] == "AWS::CodeCommit::Repository" and attribute == "Arn":
            return f"arn:aws:codecommit:{self.region}:{self.account}:{self.name_of(logical_id)}"
        return super().get_att(logical_id, attribute)

    def type_of(self, value: Any) -> str | None:
        """The type of the first resource a template value refers to (Ref, GetAtt), None when it names none."""
        if isinstance(value, dict):
            for key, arg in value.items():
                if key in ("Ref", "Fn::GetAtt"):
                    logical_id = (arg if isinstance(arg, str) else arg[0]).split(".")[0]
                    if logical_id in self.resources:
                        return self.resources[logical_id]["Type"]
                found = self.type_of(arg)
                if found:
                    return found
        if isinstance(value, list):
            for item in value:
                found = self.type_of(item)
                if found:
                    return found
        return None

    def name_of(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        if resource["Type"] == "AWS::CodeCommit::Repository":
            return self.resolve(resource["Properties"]["RepositoryName"])
        return super().name_of(logical_id)


@dataclass(frozen=True)
class Rule:
    stack: DeployedStack
    logical_id: str
    raw: dict[str, Any]
    pattern: dict[str, Any]
    targets: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.stack.name}/{self.logical_id}"

    @property
    def kind(self) -> tuple[str, str]:
        return (",".join(self.pattern.get("source", [])), ",".join(self.pattern.get("detail-type", [])))

    def referenced_type(self, *path: str) -> str | None:
        """The CloudFormation type of the resource the raw pattern names at `path` (its first value), None for a literal."""
        value: Any = self.raw
        for key in path:
            value = value[key]
        return self.stack.type_of(value[0])

    @property
    def dag_id(self) -> str | None:
        """The DAG a trigger rule starts (its input template names it), None for other rules."""
        return _dag_id(self.targets)

    @property
    def notifies_topic(self) -> bool:
        return any(self.stack.type_of(target["Arn"]) == "AWS::SNS::Topic" for target in self.targets)


def rules(stack: DeployedStack) -> list[Rule]:
    """The stack's rules that match events (scheduled rules match none: see `scheduled_rules`)."""
    found = []
    for logical_id, resource in stack.resources.items():
        if resource["Type"] != "AWS::Events::Rule" or _is_scheduled(resource):
            continue
        props = resource["Properties"]
        assert "EventPattern" in props, f"{stack.name}/{logical_id} has neither an event pattern nor a schedule"
        raw = props["EventPattern"]
        found.append(Rule(stack, logical_id, raw, stack.resolve(raw), props.get("Targets", [])))
    return found


@dataclass(frozen=True)
class ScheduledRule:
    stack: DeployedStack
    logical_id: str
    expression: str
    targets: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.stack.name}/{self.logical_id}"

    @property
    def dag_id(self) -> str | None:
        return _dag_id(self.targets)


def scheduled_rules(stack: DeployedStack) -> list[ScheduledRule]:
    return [
        ScheduledRule(
            stack,
            logical_id,
            stack.resolve(resource["Properties"]["ScheduleExpression"]),
            resource["Properties"].get("Targets", []),
        )
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == "AWS::Events::Rule" and _is_scheduled(resource)
    ]


def _dag_id(targets: list[dict[str, Any]]) -> str | None:
    for target in targets:
        template = target.get("InputTransformer", {}).get("InputTemplate", "")
        found = re.search(r'"dagId":"([^"]+)"', template if isinstance(template, str) else "")
        if found:
            return found[1]
    return None


def _is_scheduled(resource: dict[str, Any]) -> bool:
    props = resource["Properties"]
    return "ScheduleExpression" in props and "EventPattern" not in props

"""Failure notifications to the pipeline's SNS topic, standard or FIFO."""

from __future__ import annotations

import hashlib
from typing import Any

from airflow.providers.amazon.aws.notifications.sns import SnsNotifier


class FailureNotifier(SnsNotifier):
    """The provider's SnsNotifier, which also reaches a FIFO topic.

    SNS refuses a publish to a FIFO topic without a message group id (`MissingParameter`), and the provider's
    notifier sends none, so the notification would be lost with only a log line. For a `.fifo` topic this one
    publishes with the pipeline as message group (its failures stay in order) and a deduplication id that names the
    failed try (a repeated callback for the same try is sent once; the topic needs no content-based deduplication).
    """

    def __init__(self, *, message_group_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message_group_id = message_group_id

    def notify(self, context: Any) -> None:
        if not self.target_arn.endswith(".fifo"):
            super().notify(context)
            return
        ti = context["ti"]
        failed_try = f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}/{ti.try_number}"
        self.hook.publish_to_target(
            target_arn=self.target_arn,
            message=self.message,
            subject=self.subject,
            message_attributes=self.message_attributes,
            message_group_id=self.message_group_id,
            message_deduplication_id=hashlib.sha256(failed_try.encode()).hexdigest(),
        )

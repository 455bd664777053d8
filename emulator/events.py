"""EventBridge delivery: events the emulator emits (and PutEvents calls) reach the rules'
targets. moto evaluates the patterns; Lambda targets run the handler (moto would need
Docker), SQS targets get the message, CodePipeline targets start the pipeline."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.events.models import events_backends
from moto.sqs.models import sqs_backends

from emulator.lambdas import Lambdas

log = logging.getLogger("rtb_mlops.emulator")


class EventBus:
    def __init__(self, account: str, region: str, lambdas: Lambdas):
        self.account, self.region, self.lambdas = account, region, lambdas
        self.published: list[dict] = []
        # CodePipeline targets: (pipeline ARN, the target's role ARN, event) -> delivered
        self.start_pipeline: Callable[[str, str | None, dict], bool] | None = None

    def publish(self, source: str, detail_type: str, detail: dict[str, Any], resources: list[str]) -> dict:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self.account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": resources,
            "detail": detail,
        }
        self.published.append(event)
        self.deliver(event)
        return event

    def deliver(self, event: dict) -> int:
        """Send to every matching rule's targets; returns how many targets got it."""
        bus = events_backends[self.account][self.region].event_buses["default"]
        sent = 0
        for rule in list(bus.rules.values()):
            if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):
                continue
            for target in rule.targets:
                sent += self._send(target, event)
        log.info("event %s (%s) delivered to %d target(s)", event["detail-type"], event["id"][:8], sent)
        return sent

    def _send(self, target: dict, event: dict) -> int:
        arn = target["Arn"]
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if ":lambda:" in arn:
            fn = self.lambdas._function(arn)
            fn_dlq = (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn")
            self.lambdas.invoke_async(arn, event, fn_dlq or dlq)
            return 1
        if ":codepipeline:" in arn and self.start_pipeline is not None:
            return int(self.start_pipeline(arn, target.get("RoleArn"), event))
        if ":sqs:" in arn:
            sqs_backends[self.account][self.region].send_message(arn.rsplit(":", 1)[-1], json.dumps(event))
            return 1
        log.warning("event target %s not supported by the emulator", arn)
        return 0

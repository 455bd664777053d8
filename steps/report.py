"""What a person reads of a decision in the step's log: a table of the candidates.

(The chart of the same candidates is drawn on the client, from results.json:
pipelines/charts/candidates.py.)"""

from __future__ import annotations

from steps.decision import Decision

PER_MILLION = 1_000_000


def table(decision: Decision) -> str:
    sla = decision.inputs.max_latency_ms
    head = (
        f"{'':2}{'container':<16}{'instance':<16}{'env':<22}{'latency ms':>11}{'max inv/min':>13}{'USD/1M inf':>12}"
        f"{'USD/h':>9}  note"
    )
    rows = [head, "-" * len(head)]
    for c in sorted(decision.candidates, key=lambda c: (not c.valid, c.cost_per_inference or 0)):
        mark = "*" if c is decision.choice else " "
        env = " ".join(f"{k}={v}" for k, v in sorted(c.environment.items())) or "-"
        if not c.valid:
            rows.append(
                f"{mark:2}{c.container:<16}{c.instance_type or '?':<16}{env:<22}  excluded: {c.excluded_reason}"
            )
            continue
        note = "" if c.meets_sla(sla) else f"above {sla:g} ms SLA"
        rows.append(
            f"{mark:2}{c.container:<16}{c.instance_type:<16}{env:<22}{c.model_latency_ms:>11g}{c.max_invocations_per_minute:>13,}"
            f"{c.cost_per_inference * PER_MILLION:>12.4f}{c.cost_per_hour:>9.3f}  {note}"
        )
    return "\n".join(rows)

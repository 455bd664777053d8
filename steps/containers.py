"""The decision seen per container (inference specification): each one's cheapest candidate
within the SLA, and what the chosen one costs against the stock container's best.

This is the figure the fast container exists for: cost per million inferences of the stock
XGBoost image's best configuration over the chosen one's, at the same latency SLA.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from model_registry.names import specification_label
from steps.candidates import Candidate
from steps.decision import Decision, choose


@dataclass(frozen=True)
class ContainerBest:
    inference_specification_name: str
    container: str
    candidates: int
    within_sla: int
    best_recommendation_id: str
    best_instance_type: str
    best_cost_per_inference: float | None
    set_aside: str


def compare(decision: Decision) -> list[ContainerBest]:
    sla = decision.inputs.max_latency_ms
    names = sorted({c.inference_specification_name for c in decision.candidates} | set(decision.dropped))
    out = []
    for name in names:
        own: list[Candidate] = [c for c in decision.candidates if c.inference_specification_name == name]
        best = choose(own, sla)
        out.append(
            ContainerBest(
                inference_specification_name=name,
                container=specification_label(name),
                candidates=len(own),
                within_sla=sum(c.meets_sla(sla) for c in own),
                best_recommendation_id=best.recommendation_id if best else "",
                best_instance_type=best.instance_type if best else "",
                best_cost_per_inference=best.cost_per_inference if best else None,
                set_aside=decision.dropped.get(name, ""),
            )
        )
    return out


def stock_over_chosen(decision: Decision, bests: list[ContainerBest]) -> float | None:
    """The primary (stock) container's best cost per inference over the chosen one's; None when
    either is missing (the stock container had nothing within the SLA, or nothing was chosen)."""
    stock = next((b for b in bests if not b.inference_specification_name), None)
    chosen = decision.choice
    if stock is None or stock.best_cost_per_inference is None or chosen is None or not chosen.cost_per_inference:
        return None
    return stock.best_cost_per_inference / chosen.cost_per_inference


def document(decision: Decision) -> dict[str, Any]:
    """results.json's `containers` section."""
    bests = compare(decision)
    ratio = stock_over_chosen(decision, bests)
    return {
        "items": [asdict(b) for b in bests],
        "chosen": decision.choice.container if decision.choice else "",
        "stock_cost_over_chosen": round(ratio, 3) if ratio is not None else None,
    }

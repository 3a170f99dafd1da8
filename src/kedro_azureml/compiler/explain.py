"""``compile --explain``: which node runs in which step and why, and how every dataset travels."""

from __future__ import annotations

from kedro_azureml.compiler.plan import JobPlan


def explain_plan(plan: JobPlan) -> str:
    head = (
        f"Pipeline '{plan.pipeline_name}': {len(plan.steps)} Azure ML steps, "
        f"{plan.starts_on_longest_chain()} starts on the longest chain"
    )
    lines = [head, "", "Steps:", "  (each node: why it runs in its step)"]
    for step in plan.steps:
        extra = (
            f", {step.distribution.framework.value} x{step.distribution.world_size}"
            if step.distribution
            else ""
        )
        lines.append(f"  {step.name}  [compute: {step.compute}{extra}]")
        reasons = step.reasons or ("",) * len(step.node_names)
        lines += [
            f"    - {node}" + (f"  ({why})" if why else "")
            for node, why in zip(step.node_names, reasons, strict=True)
        ]
    lines += ["", "Datasets:"]
    for decision in plan.datasets.values():
        lines.append(
            f"  {decision.name}: {decision.decision} ({decision.route.route.value}: {decision.route.reason})"
        )
    return "\n".join(lines)

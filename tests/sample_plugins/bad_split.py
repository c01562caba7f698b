"""A split step that misbehaves as told by ``MODE``: raises, or moves to a party the document
does not have."""

from decimal import Decimal

from jimu_sdk import PluginMeta, RevenueSplitStep, SplitAdjustment, SplitMove, hookimpl, localized

meta = PluginMeta(name="bad_split", version="1.0.0", title=localized("坏分成", "Bad split"),
                  description=localized("测试用", "For tests"), author="tests",
                  requires_core=">=1.0")

MODE = {"value": "raise"}


def misbehave(context, shares):
    if MODE["value"] == "raise":
        raise ZeroDivisionError("division by zero")
    if MODE["value"] == "stranger":
        return SplitAdjustment((SplitMove(context.lines[0].key, "agent", Decimal(1)),), "给代理")
    return SplitAdjustment((SplitMove("nope", "enterprise", Decimal(1)),), "无此行")


@hookimpl
def register_revenue_split_steps():
    return [RevenueSplitStep(rule="misbehave", order=10, apply=misbehave)]

"""Revenue split steps for the core tests: the installer gets 70% of labour and every call-out
fee; a dealer on the document gets 1/3 of the parts (a share that needs rounding)."""

from decimal import Decimal

from jimu_sdk import (
    PluginMeta,
    RevenueSplitStep,
    SplitAdjustment,
    SplitMove,
    hookimpl,
    localized,
)

meta = PluginMeta(name="installer_share", version="1.0.0",
                  title=localized("安装分成", "Installer share"),
                  description=localized("工时70%与上门费归安装服务商；配件三分之一归经销商",
                                        "70% of labour and the call-out fee to the installer; "
                                        "a third of the parts to the dealer"),
                  author="tests", requires_core=">=1.0")

PREPARED: list[int] = []  # how many documents each prepare saw


def installer_labour(context, shares):
    if "installer" not in context.parties:
        return None
    moves = []
    for line in context.lines:
        if line.component == "labour":
            moves.append(SplitMove(line.key, "installer", line.amount.amount * Decimal("0.7")))
        elif line.component == "callout":
            moves.append(SplitMove(line.key, "installer", shares[line.key]["enterprise"]))
    return SplitAdjustment(tuple(moves), "工时费的70%与上门费归安装服务商",
                           facts={"installer.kind": context.facts["installer.kind"]})


async def prepare_dealer(contexts):
    PREPARED.append(len(contexts))
    if not any("dealer" in c.parties for c in contexts):
        return None

    def dealer_parts(context, shares):
        if "dealer" not in context.parties:
            return None
        return SplitAdjustment(tuple(
            SplitMove(line.key, "dealer", line.amount.amount / 3)
            for line in context.lines if line.component == "parts"), "配件收入的三分之一归经销商",
            rule="dealer-third")
    return dealer_parts


@hookimpl
def register_revenue_split_steps():
    return [RevenueSplitStep(rule="installer-labour", order=100, apply=installer_labour),
            RevenueSplitStep(rule="dealer-parts", order=200, prepare=prepare_dealer)]

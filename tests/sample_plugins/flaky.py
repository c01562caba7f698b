"""Fails on purpose: a raising customer fact, a slow one, and a raising price step."""

from jimu_sdk import PluginMeta, PriceStep, hookimpl, localized

meta = PluginMeta(name="flaky", version="0.1.0", title=localized("故障", "Flaky"),
                  description=localized("故意出错", "Fails on purpose"), author="tests",
                  requires_core=">=1.0")


@hookimpl
def customer_facts(customer):
    raise RuntimeError("fact source is down")


def broken_step(context, previous):
    raise ZeroDivisionError("rebate table empty")


@hookimpl
def register_pricing_steps():
    return [PriceStep(rule="broken-rebate", order=300, apply=broken_step)]

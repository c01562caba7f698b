"""A test-only plugin standing in for regional pricing: the region's labour rate as the fact
``regional_pricing.labour_rate`` (Pudong 115.00/h, Suzhou 100.00/h: Pudong 15% above)."""

from decimal import Decimal

from jimu_sdk import PluginMeta, hookimpl, localized

meta = PluginMeta(name="labour_rates", version="0.1.0",
                  title=localized("测试工时费", "Test labour rates"),
                  description=localized("测试用", "For tests"), author="tests",
                  requires_core=">=1.0,<2")

RATES = {"310115": Decimal("115.00"), "320500": Decimal("100.00")}


@hookimpl
def pricing_facts(contexts):
    answers = []
    for context in contexts:
        path = context.facts.get("region.path") or ()
        rate = next((RATES[code] for code in reversed(path) if code in RATES), None)
        answers.append({"regional_pricing.labour_rate": rate} if rate is not None else {})
    return answers

"""Declares a core API this platform does not provide."""

from jimu_sdk import PluginMeta, localized

meta = PluginMeta(name="future_only", version="3.1.0", title=localized("未来", "Future"),
                  description=localized("需要新内核", "Needs a newer core"), author="tests",
                  requires_core=">=2.0")

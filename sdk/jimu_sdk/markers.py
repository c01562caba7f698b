"""The pluggy markers. Plugins decorate hook implementations with :data:`hookimpl`."""

import pluggy

HOOK_NAMESPACE = "jimu"
ENTRY_POINT_GROUP = "jimu.plugins"

hookimpl = pluggy.HookimplMarker(HOOK_NAMESPACE)
hookspec = pluggy.HookspecMarker(HOOK_NAMESPACE)

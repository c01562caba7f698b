"""Test support for plugin authors: fixtures (see ``plugin.py``) and the test platform."""

from jimu_sdk.testing.platform import (
    DEFAULT_PASSWORD,
    ApiClient,
    HookCallRecorder,
    TestPlatform,
    TestTenant,
)

__all__ = ["DEFAULT_PASSWORD", "ApiClient", "HookCallRecorder", "TestPlatform", "TestTenant"]

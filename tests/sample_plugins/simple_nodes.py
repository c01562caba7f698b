"""Node types for testing the workflow runtime: start, end, a task a person finishes, a
choice that follows a setting, a wait with a timer, and a node that answers nonsense."""

import datetime as dt

import msgspec
from jimu_sdk import (
    Advance,
    NodeType,
    PluginMeta,
    ValidationFailed,
    Wait,
    hookimpl,
    localized,
)

meta = PluginMeta(name="simple_nodes", version="1.0.0", title=localized("测试节点", "Test nodes"),
                  description=localized("测试用节点", "Node types for tests"), author="tests",
                  requires_core=">=1.0,<2")


class TaskSettings(msgspec.Struct):
    field: str = "answer"


def task_enter(context):
    return Wait(actions=("done", "hold"), note="waiting for a person")


def task_act(context, action, payload):
    if action == "hold":
        return Wait(actions=("done",), state={"held": True})
    name = context.settings.field
    if not payload.get(name):
        raise ValidationFailed("required", errors=[{"field": name, "message": "required"}])
    return Advance(data={context.node_id: {name: payload[name]}})


class ChoiceSettings(msgspec.Struct):
    cases: list[str]
    pick: str = ""


def choice_outcomes(settings):
    return [*settings.cases, "default"] if settings is not None else ["default"]


def choice_enter(context):
    wanted = context.data.get("pick", context.settings.pick)
    return Advance(outcome=wanted if wanted in context.settings.cases else "default")


def choice_check(settings):
    return [] if settings.cases else ["a choice needs at least one case"]


class WaitSettings(msgspec.Struct):
    hours: int = 1


def wait_enter(context):
    return Wait(due=context.now + dt.timedelta(hours=context.settings.hours),
                actions=("skip",))


def wait_timer(context):
    return Advance(note="time is up", data={"waited": True})


def wait_act(context, action, payload):
    return Advance(note="skipped")


@hookimpl
def register_workflow_nodes():
    return [
        NodeType(key="start", title=localized("开始", "Start"), role="start",
                 enter=lambda c: Advance()),
        NodeType(key="end", title=localized("结束", "End"), role="end", outcomes=(),
                 enter=lambda c: Advance()),
        NodeType(key="task", title=localized("任务", "Task"), settings=TaskSettings,
                 enter=task_enter, act=task_act),
        NodeType(key="choice", title=localized("分支", "Choice"), settings=ChoiceSettings,
                 outcomes=choice_outcomes, enter=choice_enter, check=choice_check),
        NodeType(key="pause", title=localized("等待", "Wait"), settings=WaitSettings,
                 enter=wait_enter, on_timer=wait_timer, act=wait_act),
        NodeType(key="broken", title=localized("坏", "Broken"), enter=lambda c: "next"),
    ]

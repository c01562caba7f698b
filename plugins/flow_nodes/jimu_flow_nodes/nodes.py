"""The node types. Each answers core's ``enter``/``act``/``on_timer`` with ``Advance`` or
``Wait``; what a node keeps between calls lives in the run's node state, never here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from jimu_sdk import (
    N_,
    Advance,
    NodeContext,
    NodeType,
    ValidationFailed,
    Wait,
    localized,
    platform,
)
from jimu_sdk.conditions import Condition, ConditionError

from jimu_flow_nodes.fields import FormField, check_fields, clean_submission

UserId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
KINDS = "_kinds"  # run data: "<node>.<field>" → number | money | date, for conditions


# ----------------------------------------------------------------------------- start / end


def start(context: NodeContext) -> Advance:
    return Advance()


def end(context: NodeContext) -> Advance:  # never called: core completes the run
    return Advance()


# ----------------------------------------------------------------------------- form


class FormSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    fields: Annotated[list[FormField], msgspec.Meta(
        min_length=1, max_length=50, title=N_("Fields"),
        description=N_("What this stage asks for; required fields must be filled to submit."))]
    assignees: Annotated[list[UserId], msgspec.Meta(
        max_length=50, title=N_("Who fills it in"),
        description=N_("User ids; empty: anyone who may act on the flow."))] = []


def form_enter(context: NodeContext) -> Wait:
    settings: FormSettings = context.settings
    return Wait(actions=("submit",), assignees=tuple(settings.assignees))


def form_act(context: NodeContext, action: str, payload: dict[str, Any]) -> Advance:
    settings: FormSettings = context.settings
    values = clean_submission(settings.fields, payload)
    # Numbers, money and dates are stored as exact text; conditions read them typed.
    kinds = dict(context.data.get(KINDS, {}))
    kinds.update({f"{context.node_id}.{f.key}": f.kind for f in settings.fields
                  if f.kind in ("number", "money", "date")})
    return Advance(outcome="submitted", data={context.node_id: values, KINDS: kinds},
                   note=f"{context.label or context.node_id}: submitted")


def form_check(settings: FormSettings) -> list[str]:
    return check_fields(settings.fields)


# ----------------------------------------------------------------------------- approval


class ApprovalSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    approvers: Annotated[list[UserId], msgspec.Meta(
        max_length=20, title=N_("Approvers"),
        description=N_("User ids; empty: anyone who may act on the flow (one approval)"))] = []
    mode: Annotated[Literal["one", "any", "all", "sequence"], msgspec.Meta(
        title=N_("Who must approve"),
        description=N_("one: the first approver; any: any one of them; all: every one; "
                       "sequence: every one, in the order listed"))] = "any"


def _approval_wait(settings: ApprovalSettings, state: dict[str, Any]) -> Wait:
    approvers = list(state.get("approvers", settings.approvers))
    done = list(state.get("approved_by", []))
    if settings.mode == "one":
        pending = approvers[:1]
    elif settings.mode == "sequence":
        pending = [a for a in approvers if a not in done][:1]
    else:
        pending = [a for a in approvers if a not in done]
    return Wait(actions=("approve", "reject", "delegate"), assignees=tuple(pending),
                state={"approvers": approvers, "approved_by": done})


async def _ask(context: NodeContext, wait: Wait, already: tuple[int, ...] = ()) -> Wait:
    """Tell the approvers whose turn it now is (in-app; the bell counts it)."""
    new = [a for a in wait.assignees if a not in already]
    if new:
        label = context.label or context.node_id
        await platform().notify(new, localized(f"待你审批：{label}", f"Awaiting your approval: "
                                                                   f"{label}"),
                                link=f"/flow-runs/{context.run_id}")
    return wait


async def approval_enter(context: NodeContext) -> Wait:
    return await _ask(context, _approval_wait(context.settings, {}))


async def approval_act(context: NodeContext, action: str, payload: dict[str, Any]
                       ) -> Advance | Wait:
    settings: ApprovalSettings = context.settings
    state = dict(context.state)
    approvers: list[int] = list(state.get("approvers", settings.approvers))
    done: list[int] = list(state.get("approved_by", []))
    actor = context.actor_id
    comment = str(payload.get("comment", ""))[:500]
    if action == "reject":
        return Advance(outcome="rejected", note=f"rejected: {comment}".rstrip(": "),
                       data={context.node_id: {"decision": "rejected", "by": actor,
                                               "comment": comment}})
    if action == "delegate":
        to = payload.get("to")
        if not isinstance(to, int) or isinstance(to, bool) or to < 1:
            raise ValidationFailed(N_("give the user id to delegate to"), field="to")
        if actor not in approvers:
            raise ValidationFailed(N_("only a listed approver can delegate"), field="to")
        if to in approvers:
            raise ValidationFailed(N_("user %(id)s already approves here"), field="to",
                                   params={"id": to})
        approvers[approvers.index(actor)] = to
        wait = _approval_wait(settings, {"approvers": approvers, "approved_by": done})
        await _ask(context, wait, _approval_wait(settings, context.state).assignees)
        return msgspec.structs.replace(wait, note=f"delegated by {actor} to {to}")
    # approve
    if actor is not None and actor not in done:
        done.append(actor)
    finished = (settings.mode in ("one", "any") or not approvers
                or all(a in done for a in approvers))
    if finished:
        return Advance(outcome="approved", note=f"approved: {comment}".rstrip(": "),
                       data={context.node_id: {"decision": "approved", "by": done,
                                               "comment": comment}})
    wait = _approval_wait(settings, {"approvers": approvers, "approved_by": done})
    await _ask(context, wait, _approval_wait(settings, context.state).assignees)
    return msgspec.structs.replace(wait, note=f"approved by {actor}, waiting for the others")


def approval_check(settings: ApprovalSettings) -> list[str]:
    problems = []
    if len(set(settings.approvers)) != len(settings.approvers):
        problems.append("an approver is listed twice")
    if not settings.approvers and settings.mode in ("all", "sequence"):
        problems.append(f"mode {settings.mode} needs the approvers listed")
    return problems


# ----------------------------------------------------------------------------- wait


class WaitSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    minutes: Annotated[int, msgspec.Meta(ge=1, le=60 * 24 * 366, title=N_("Minutes"))] = 60
    skippable: Annotated[bool, msgspec.Meta(
        title=N_("May be skipped"), description=N_("Someone may end the wait early."))] = True


def wait_enter(context: NodeContext) -> Wait:
    settings: WaitSettings = context.settings
    return Wait(due=context.now + dt.timedelta(minutes=settings.minutes),
                actions=("skip",) if settings.skippable else ())


def wait_timer(context: NodeContext) -> Advance:
    return Advance(note="the wait is over")


def wait_act(context: NodeContext, action: str, payload: dict[str, Any]) -> Advance:
    return Advance(note="the wait was skipped")


# ----------------------------------------------------------------------------- branch


OUTCOME = r"^[a-z][a-z0-9_]{0,39}$"


class Case(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    outcome: Annotated[str, msgspec.Meta(pattern=OUTCOME, title=N_("Outcome"),
                                         description=N_("The name of this case's edge"))]
    condition: Annotated[str, msgspec.Meta(
        min_length=1, max_length=2000, title=N_("Condition"),
        description=N_('CEL, e.g. claim.amount > 5000 || customer.level == "platinum"'))]
    label: Annotated[str, msgspec.Meta(max_length=100, title=N_("Label"))] = ""


class BranchSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    cases: Annotated[list[Case], msgspec.Meta(
        min_length=1, max_length=20, title=N_("Cases"),
        description=N_("Checked in order; the first that holds is taken, else 'default'."))]


def branch_outcomes(settings: BranchSettings | None) -> list[str]:
    return [*(c.outcome for c in settings.cases), "default"] if settings else ["default"]


def branch_check(settings: BranchSettings) -> list[str]:
    problems = []
    seen: set[str] = set()
    for index, case in enumerate(settings.cases):
        if case.outcome == "default" or case.outcome in seen:
            problems.append(f"case {index + 1}: outcome {case.outcome} is taken; "
                            "each case needs its own, other than 'default'")
        seen.add(case.outcome)
        try:
            Condition(case.condition, field=f"cases[{index}].condition")
        except ValidationFailed as exc:
            problems.append(f"case {index + 1}: {exc.message}")
    return problems


def branch_enter(context: NodeContext) -> Advance:
    settings: BranchSettings = context.settings
    data = dict(context.data)
    values = {**data, "data": data, "subject": context.subject}
    kinds = {**data.get(KINDS, {}), **{f"data.{k}": v for k, v in data.get(KINDS, {}).items()}}
    notes = []
    for case in settings.cases:
        try:
            if Condition(case.condition).evaluate(values, kinds):
                return Advance(outcome=case.outcome, note=f"{case.label or case.outcome}: "
                                                          f"{case.condition}")
        except ConditionError as exc:
            notes.append(f"{case.outcome} not checked: {exc.message}")
    return Advance(outcome="default", note="; ".join(["no case held", *notes]))


# ----------------------------------------------------------------------------- the list


NODE_TYPES = [
    NodeType(key="start", title=localized("开始", "Start"), role="start", enter=start,
             icon="play", category="basic",
             description=localized("流程从这里开始", "Where the flow begins")),
    NodeType(key="end", title=localized("结束", "End"), role="end", outcomes=(), enter=end,
             icon="stop", category="basic",
             description=localized("流程在这里结束", "Where the flow ends")),
    NodeType(key="form", title=localized("阶段表单", "Stage form"), settings=FormSettings,
             outcomes=("submitted",), enter=form_enter, act=form_act, check=form_check,
             icon="form", category="people",
             description=localized("按表单模板填写本阶段信息（必填项、校验）",
                                   "Fill in this stage's form (required fields, checks)")),
    NodeType(key="approval", title=localized("审批", "Approval"), settings=ApprovalSettings,
             outcomes=("approved", "rejected"), enter=approval_enter, act=approval_act,
             check=approval_check, icon="stamp", category="people",
             description=localized("一人、任一、全部或依次审批；可转交",
                                   "One, any, all or in sequence; may be delegated")),
    NodeType(key="branch", title=localized("条件分支", "Branch"), settings=BranchSettings,
             outcomes=branch_outcomes, enter=branch_enter, check=branch_check, icon="branch",
             category="logic",
             description=localized("按条件（CEL 表达式）选择去向，都不满足走默认",
                                   "Choose the way on by conditions (CEL); else 'default'")),
    NodeType(key="wait", title=localized("等待", "Wait"), settings=WaitSettings,
             enter=wait_enter, on_timer=wait_timer, act=wait_act, icon="clock",
             category="time",
             description=localized("等待一段时间后继续", "Go on after a while")),
]

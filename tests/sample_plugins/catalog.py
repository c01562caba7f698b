"""Contributes a workflow node type and a channel adapter (their runtimes come later)."""

import hashlib
import hmac
import json
from decimal import Decimal

import msgspec
from jimu_sdk import (
    Advance,
    InboundEvent,
    Money,
    NodeType,
    PluginMeta,
    PriceAdjustment,
    PriceFactorKind,
    SendResult,
    hookimpl,
    localized,
)

meta = PluginMeta(name="catalog", version="1.0.0", title=localized("目录", "Catalog"),
                  description=localized("节点与渠道", "A node and a channel"), author="tests",
                  requires_core=">=1.0")


class NotifySettings(msgspec.Struct):
    template: str


def notify(context):
    return Advance(note=f"sent {context.settings.template}")


class EchoChannel:
    key = "echo"
    title = localized("回声", "Echo")

    def verify(self, request, secret):
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, request.headers.get("x-signature", ""))

    def parse(self, request):
        body = json.loads(request.body)
        return [InboundEvent(kind="message", external_id=body["id"], payload=body)]

    async def send(self, message, config):
        return SendResult(ok=True, external_id=f"echo-{message.recipient}")


@hookimpl
def register_workflow_nodes():
    return [NodeType(key="catalog.notify", title=localized("通知", "Notify"),
                     settings=NotifySettings, enter=notify, icon="bell")]


@hookimpl
def register_channels():
    return [EchoChannel()]


class CarbonCredit(msgspec.Struct):
    amount: Decimal


def carbon_credit(context, previous, params):
    return PriceAdjustment(previous - Money(params.amount), "碳积分抵扣")


@hookimpl
def register_price_factor_kinds():
    return [PriceFactorKind(key="carbon_credit", title=localized("碳积分", "Carbon credit"),
                            order=450, params=CarbonCredit, apply=carbon_credit)]

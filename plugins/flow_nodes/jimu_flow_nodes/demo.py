"""Demo data: a small expense approval flow and one request waiting at its form."""

from __future__ import annotations

from jimu_sdk import platform

EXPENSE_FLOW = {
    "nodes": [
        {"id": "start", "type": "start", "label": "提交", "x": 80, "y": 200},
        {"id": "claim", "type": "form", "label": "报销单", "x": 260, "y": 200, "settings": {
            "fields": [
                {"key": "amount", "label": "金额", "kind": "money", "required": True,
                 "minimum": "0.01"},
                {"key": "reason", "label": "事由", "kind": "text", "required": True},
                {"key": "spent_on", "label": "发生日期", "kind": "date"},
                {"key": "receipts", "label": "票据照片", "kind": "photo"},
            ]}},
        {"id": "review", "type": "approval", "label": "主管审批", "x": 460, "y": 200,
         "settings": {"mode": "any"}},
        {"id": "paid", "type": "end", "label": "已报销", "x": 660, "y": 140},
        {"id": "refused", "type": "end", "label": "已驳回", "x": 660, "y": 260},
    ],
    "edges": [
        {"source": "start", "target": "claim"},
        {"source": "claim", "target": "review", "outcome": "submitted"},
        {"source": "review", "target": "paid", "outcome": "approved", "label": "同意"},
        {"source": "review", "target": "refused", "outcome": "rejected", "label": "驳回"},
    ],
}


async def seed(tenant_id: int) -> None:
    await platform().install_flow("demo-expense", "费用报销（示例）", EXPENSE_FLOW,
                                  description="阶段表单 + 审批的最小示例流程")
    await platform().start_flow("demo-expense", subject="demo:expense-1")

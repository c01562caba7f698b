"""The basic workflow node types (基础流程节点): start, end, a stage form with custom fields,
approvals (one, any, all or in sequence, with delegation), a wait and a condition branch.
Core runs flows; these types decide what happens at their nodes, exactly as a third party's
would.
"""

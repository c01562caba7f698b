"""Priority rules (优先级规则): CEL conditions over a new work order that raise its priority and
notify departments at once."""

"""The shared workflow engine (maker → IS-unit head → center): the abstract `WorkflowItem`, its
comments and versions, and `engine.apply`, the one function that moves an item along its
product's `Machine` — checking permission, side and state, setting working-day deadlines,
storing versions and writing the audit event in one transaction. Part of the platform; it knows
no item type."""

-- Row leases: a control-plane replica claims a sandbox row before reconcile or idle auto-pause acts on it, so of
-- several replicas exactly one acts (portable: one conditional UPDATE on SQLite and PostgreSQL alike).
ALTER TABLE sandboxes ADD COLUMN claimed_by VARCHAR(64);
ALTER TABLE sandboxes ADD COLUMN claimed_until BIGINT;

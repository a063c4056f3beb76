-- Pause, resume and fork (spec §4.2, §6.7-§6.9). Portable SQL: SQLite and PostgreSQL. Times are epoch milliseconds.
ALTER TABLE sandboxes ADD COLUMN forked_from VARCHAR(40);
ALTER TABLE sandboxes ADD COLUMN paused_at BIGINT;
ALTER TABLE sandboxes ADD COLUMN last_resumed_at BIGINT;

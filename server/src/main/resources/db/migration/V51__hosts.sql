-- Host daemons that registered themselves (`createos-sandbox host --control-plane URL`): where each listens, its
-- placement labels, and when it last heartbeated. Every control-plane replica reads it; whichever replica a
-- heartbeat reaches writes it.
CREATE TABLE hosts (
    id VARCHAR(64) PRIMARY KEY,
    address VARCHAR(300) NOT NULL,
    labels TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    last_heartbeat BIGINT NOT NULL
);

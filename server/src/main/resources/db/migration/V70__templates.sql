-- Templates built from Dockerfiles (spec §12, interactive §9.1). Portable SQL: SQLite and PostgreSQL. Times are
-- epoch milliseconds. A name resolves to the newest live version of that name of its user; a deleted row keeps its
-- id (sandboxes built from it still name it as their rootfs) with deleted_at set.
CREATE TABLE templates (
    id              VARCHAR(40)  PRIMARY KEY,
    user_id         VARCHAR(40)  NOT NULL REFERENCES users (id),
    name            VARCHAR(64)  NOT NULL,
    version         INTEGER      NOT NULL,
    base            VARCHAR(200) NOT NULL,
    base_image      VARCHAR(200) NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    dockerfile      TEXT         NOT NULL,
    image_config    TEXT         NOT NULL,
    ext4_size_bytes BIGINT       NOT NULL,
    error           TEXT,
    builder_vm      VARCHAR(40),
    created_at      BIGINT       NOT NULL,
    built_at        BIGINT,
    deleted_at      BIGINT
);

CREATE UNIQUE INDEX templates_user_name_version ON templates (user_id, name, version);

-- The build log, one row per line; attempt counts builds of the row (one today).
CREATE TABLE template_logs (
    template_id VARCHAR(40)  NOT NULL REFERENCES templates (id),
    seq         INTEGER      NOT NULL,
    attempt     INTEGER      NOT NULL,
    ts          BIGINT       NOT NULL,
    level       VARCHAR(8)   NOT NULL,
    line        TEXT         NOT NULL,
    PRIMARY KEY (template_id, seq)
);

-- Cached build steps: the paused builder VM holding the disk after the instructions the key covers (BuildCache).
CREATE TABLE template_build_cache (
    cache_key   VARCHAR(64)  PRIMARY KEY,
    user_id     VARCHAR(40)  NOT NULL,
    vm_id       VARCHAR(40)  NOT NULL,
    created_at  BIGINT       NOT NULL,
    used_at     BIGINT       NOT NULL
);

-- S3 disks (spec §11). Portable SQL: SQLite and PostgreSQL. Times are epoch milliseconds.
-- credentials is SecretBox-sealed JSON {access_key, secret_key} bound to the row's id; credentials_version counts
-- rotations, so a mount made with older keys is known to need a re-mount.
CREATE TABLE disks (
    id                  VARCHAR(40)  PRIMARY KEY,
    user_id             VARCHAR(40)  NOT NULL REFERENCES users (id),
    name                VARCHAR(64)  NOT NULL,
    kind                VARCHAR(16)  NOT NULL,
    config              TEXT         NOT NULL,
    credentials         TEXT         NOT NULL,
    credentials_version INTEGER      NOT NULL,
    created_at          BIGINT       NOT NULL
);

CREATE UNIQUE INDEX disks_user_name ON disks (user_id, name);

-- A disk mounted in a sandbox; the key is (sandbox, disk, mount path). No foreign key to disks: a detach on a
-- paused sandbox leaves an 'unmounting' row for its resume, and the disk itself may be deleted meanwhile.
CREATE TABLE sandbox_disks (
    sandbox_id          VARCHAR(40)   NOT NULL REFERENCES sandboxes (id),
    disk_id             VARCHAR(40)   NOT NULL,
    mount_path          VARCHAR(1024) NOT NULL,
    sub_path            VARCHAR(1024),
    mount_status        VARCHAR(16)   NOT NULL,
    mount_error         TEXT,
    credentials_version INTEGER       NOT NULL,
    attached_at         BIGINT        NOT NULL,
    PRIMARY KEY (sandbox_id, mount_path)
);

CREATE INDEX sandbox_disks_disk ON sandbox_disks (disk_id);

-- Names are unique ignoring case (issue 18): DNS matches host names that way, so "Web" and "web" must not be two
-- sandboxes (or networks) of one user. Portable SQL: SQLite and PostgreSQL both index an expression.
DROP INDEX sandboxes_live_name;
CREATE UNIQUE INDEX sandboxes_live_name_ci ON sandboxes (user_id, LOWER(name))
    WHERE status <> 'destroyed' AND status <> 'failed';
DROP INDEX networks_user_name;
CREATE UNIQUE INDEX networks_user_name_ci ON networks (user_id, LOWER(name));

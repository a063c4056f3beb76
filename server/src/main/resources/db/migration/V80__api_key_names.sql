-- Issue 17: users manage their own keys in the console and the API, so a key gets an optional label
-- ("laptop", "ci") to tell it apart by; the secret itself is still only stored as its SHA-256.
ALTER TABLE api_keys ADD COLUMN name VARCHAR(64);
CREATE INDEX api_keys_user ON api_keys (user_id);

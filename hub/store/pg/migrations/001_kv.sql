-- The KeyValueStore port (common/kv/pg-kv-store.ts): the repositories built on it keep their data here
-- in postgres mode. A key is the UTF-8 encoding of the port's string key. bytea compares bytewise
-- (memcmp, then length), which is LevelDB's order, and it does not depend on the database's collation
-- (a text key under en_US.UTF-8 would sort 'a/2' and 'a-1' differently from LevelDB).
CREATE TABLE kv (
  key bytea PRIMARY KEY,
  value bytea NOT NULL
);

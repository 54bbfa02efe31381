// Schema upgrades (src/durable/migrations.ts) against workerd's SQLite: steps run once each, in order, atomically with
// the recorded version; and each Durable Object opens storage its code wrote before versions, keeping every row.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Heartbeat } from "@meshgate/schemas";
import { ApiKeys } from "../src/durable/api-keys/api-keys.js";
import { API_KEYS_MIGRATIONS } from "../src/durable/api-keys/schema.js";
import { EarningsShard } from "../src/durable/earnings-shard/earnings-shard.js";
import { EARNINGS_MIGRATIONS } from "../src/durable/earnings-shard/schema.js";
import {
  addMissingColumns,
  hasColumn,
  hasTable,
  migrate,
  schemaVersion,
  type Migration,
} from "../src/durable/migrations.js";
import { NodeRegistry } from "../src/durable/node-registry/node-registry.js";
import { REGISTRY_MIGRATIONS } from "../src/durable/node-registry/schema.js";
import { SETTLEMENTS_MIGRATIONS } from "../src/durable/settlements/schema.js";
import { Settlements } from "../src/durable/settlements/settlements.js";
import { newNode } from "./helpers.js";

let counter = 0;
/** An object no other test uses. Any class's storage serves the helper's own tests: dropAll empties it first. */
function fresh<T extends Rpc.DurableObjectBranded | undefined>(ns: DurableObjectNamespace<T>): DurableObjectStub<T> {
  return ns.get(ns.idFromName(`migrations-test-${++counter}-${Date.now()}`));
}

/** Every table of this storage but the runtime's own, dropped: storage as blank as a new object's. */
function dropAll(sql: SqlStorage): void {
  const tables = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT " +
        "LIKE '\\_cf\\_%' ESCAPE '\\'",
    )
    .toArray();
  for (const { name } of tables) sql.exec(`DROP TABLE "${name}"`);
}

/** Runs `fn` over the storage of a fresh object, emptied first: the helper's steps start from nothing. */
function withBlankStorage(fn: (storage: DurableObjectStorage) => void | Promise<void>): Promise<void> {
  return runInDurableObject(fresh(env.SETTLEMENTS), async (_obj, state) => {
    dropAll(state.storage.sql);
    await fn(state.storage);
  });
}

const createTable =
  (name: string, log: string[]): Migration =>
  (sql) => {
    log.push(name);
    sql.exec(`CREATE TABLE ${name} (id INTEGER PRIMARY KEY)`);
  };

const failing: Migration = () => {
  throw new Error("step failed");
};

describe("migrate", () => {
  it("runs every step of a fresh database once, in order, and records how many", () =>
    withBlankStorage((storage) => {
      const log: string[] = [];
      const steps = [createTable("t1", log), createTable("t2", log)];
      migrate(storage, steps);
      migrate(storage, steps);
      expect(log).toEqual(["t1", "t2"]);
      expect(schemaVersion(storage.sql)).toBe(2);
    }));

  it("runs only the steps appended since the last time", () =>
    withBlankStorage((storage) => {
      const log: string[] = [];
      const first = createTable("t1", log);
      migrate(storage, [first]);
      migrate(storage, [first, createTable("t2", log)]);
      expect(log).toEqual(["t1", "t2"]);
      expect(schemaVersion(storage.sql)).toBe(2);
    }));

  it("leaves the database as it was when a step throws, version included", () =>
    withBlankStorage((storage) => {
      const log: string[] = [];
      const first = createTable("t1", log);
      migrate(storage, [first]);
      expect(() => migrate(storage, [first, createTable("t2", log), failing])).toThrow("step failed");
      expect(hasTable(storage.sql, "t2")).toBe(false);
      expect(schemaVersion(storage.sql)).toBe(1);
      // Fixed, the upgrade runs from where the database really is.
      migrate(storage, [first, createTable("t2", log), createTable("t3", log)]);
      expect(log).toEqual(["t1", "t2", "t2", "t3"]);
      expect(schemaVersion(storage.sql)).toBe(3);
    }));

  it("refuses a database upgraded by newer code", () =>
    withBlankStorage((storage) => {
      const first = createTable("t1", []);
      migrate(storage, [first, createTable("t2", [])]);
      expect(() => migrate(storage, [first])).toThrow(/newer than this code/);
    }));

  it("adds only the columns a table lacks, and its rows keep their values", () =>
    withBlankStorage((storage) => {
      const { sql } = storage;
      sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL)");
      sql.exec("INSERT INTO t (id, a) VALUES (1, 'kept')");
      const columns = [
        { column: "a", definition: "a TEXT NOT NULL DEFAULT 'never used'" },
        { column: "b", definition: "b INTEGER NOT NULL DEFAULT 7" },
      ];
      addMissingColumns(sql, "t", columns);
      addMissingColumns(sql, "t", columns);
      expect(hasColumn(sql, "t", "b")).toBe(true);
      expect(sql.exec("SELECT id, a, b FROM t").toArray()).toEqual([{ id: 1, a: "kept", b: 7 }]);
    }));
});

/** A registry as deployed before routing state and identity origins, with one node in it. */
function oldRegistry(sql: SqlStorage, node: { id: string; publicKey: string }, now: number): void {
  sql.exec(`CREATE TABLE nodes (
    id TEXT PRIMARY KEY, keyid TEXT NOT NULL UNIQUE, public_key TEXT NOT NULL, url TEXT NOT NULL, verified_url TEXT,
    challenge_at INTEGER, challenges INTEGER NOT NULL DEFAULT 0, models TEXT NOT NULL, capacity INTEGER NOT NULL,
    in_flight INTEGER NOT NULL, last_heartbeat INTEGER NOT NULL, seq INTEGER NOT NULL, registered INTEGER NOT NULL,
    rep_s REAL NOT NULL DEFAULT 0, rep_f REAL NOT NULL DEFAULT 0, rep_at INTEGER NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0, banned_at INTEGER, ban_reason TEXT, hb_tokens REAL NOT NULL,
    hb_at INTEGER NOT NULL
  );
  CREATE INDEX nodes_last_heartbeat ON nodes (last_heartbeat);
  CREATE TABLE banned_origins (origin TEXT PRIMARY KEY, node_id TEXT NOT NULL, banned_at INTEGER NOT NULL);
  CREATE TABLE retired_keys (keyid TEXT PRIMARY KEY, node_id TEXT NOT NULL, retired_at INTEGER NOT NULL);
  CREATE TABLE nonces (id TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX nonces_expires ON nonces (expires)`);
  sql.exec(
    `INSERT INTO nodes (id, keyid, public_key, url, verified_url, models, capacity, in_flight, last_heartbeat, seq,
       registered, rep_at, requests, hb_tokens, hb_at)
     VALUES (?, ?, ?, 'http://127.0.0.1:46001/', 'http://127.0.0.1:46001/', '[{"id":"test-model"}]', 4, 0, ?, 5, ?, ?, 42, 9, ?)`,
    node.id,
    node.id,
    node.publicKey,
    now,
    now - 60_000,
    now,
    now,
  );
  sql.exec("INSERT INTO retired_keys (keyid, node_id, retired_at) VALUES ('old-key', ?, ?)", node.id, now - 1_000);
}

describe("Durable Objects over storage from before versioned upgrades", () => {
  it("NodeRegistry keeps its nodes and retired keys, adds the later columns, and carries on", async () => {
    const node = await newNode();
    const now = Date.now();
    await runInDurableObject(fresh(env.REGISTRY), (_obj, state) => {
      const { sql } = state.storage;
      dropAll(sql);
      oldRegistry(sql, node, now);
      const registry = new NodeRegistry(state, env);
      expect(schemaVersion(sql)).toBe(REGISTRY_MIGRATIONS.length);
      expect(registry.list(now)).toMatchObject([
        { id: node.id, requests: 42, registered: now - 60_000, endpoint_verified: true, banned: false },
      ]);
      expect(sql.exec("SELECT node_id FROM retired_keys").toArray()).toEqual([{ node_id: node.id }]);
      expect(hasColumn(sql, "nodes", "origin") && hasColumn(sql, "nodes", "routing")).toBe(true);
      const hb: Heartbeat = {
        node_id: node.id,
        url: "http://127.0.0.1:46001/",
        models: [],
        capacity: 1,
        in_flight: 0,
        timestamp: now,
        seq: 6,
      };
      const signature = {
        keyId: node.id,
        publicKey: node.publicKey,
        nonce: "n1",
        createdAt: now,
        nonceExpiresAt: now + 60_000,
      };
      expect(registry.heartbeat(hb, signature, now + 1, "203.0.113.1")).toMatchObject({ ok: true, registered: false });
      // The 9 tokens it had became 9 minutes' worth of units; 1 ms refilled 60 (60 a minute), one token taken.
      expect(sql.exec("SELECT seq, hb_level FROM nodes").toArray()).toEqual([
        { seq: 6, hb_level: 9 * 60_000 + 60 - 60_000 },
      ]);
      // Opened again, it is not upgraded again: the bucket is not converted twice.
      new NodeRegistry(state, env);
      expect(sql.exec("SELECT hb_level FROM nodes").toArray()).toEqual([{ hb_level: 480_060 }]);
    });
  });

  it("NodeRegistry converts fractional token buckets to whole units, to the same number of tokens", async () => {
    await runInDurableObject(fresh(env.REGISTRY), (_obj, state) => {
      const { sql } = state.storage;
      dropAll(sql);
      // The tables exactly as the code before versions left them: its one step, and no version.
      migrate(state.storage, REGISTRY_MIGRATIONS.slice(0, 1));
      sql.exec("DROP TABLE schema_version");
      sql.exec("INSERT INTO registration_sources (source, tokens, at) VALUES ('198.51.100.1', 2.75, 1000)");
      new NodeRegistry(state, env);
      // 2.75 tokens of an hourly limit: 2.75 hours' worth of milliseconds.
      expect(sql.exec("SELECT source, level, at FROM registration_sources").toArray()).toEqual([
        { source: "198.51.100.1", level: 9_900_000, at: 1000 },
      ]);
      expect(hasColumn(sql, "nodes", "hb_level") && !hasColumn(sql, "nodes", "hb_tokens")).toBe(true);
    });
  });

  it("NodeRegistry sets aside, rather than drops, a table from before node keys", async () => {
    const node = await newNode();
    await runInDurableObject(fresh(env.REGISTRY), (_obj, state) => {
      const { sql } = state.storage;
      dropAll(sql);
      sql.exec(`CREATE TABLE nodes (id TEXT PRIMARY KEY, url TEXT NOT NULL, models TEXT NOT NULL, capacity INTEGER NOT NULL,
        in_flight INTEGER NOT NULL, last_heartbeat INTEGER NOT NULL, seq INTEGER NOT NULL, registered INTEGER NOT NULL,
        lat_ms REAL, lat_at INTEGER, rep_s REAL NOT NULL DEFAULT 0, rep_f REAL NOT NULL DEFAULT 0,
        rep_at INTEGER NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX nodes_last_heartbeat ON nodes (last_heartbeat)`);
      sql.exec(
        "INSERT INTO nodes VALUES ('node-before-keys', 'http://n/', '[]', 1, 0, 1, 1, 1, NULL, NULL, 0, 0, 1, 3)",
      );
      const registry = new NodeRegistry(state, env);
      expect(sql.exec("SELECT id, requests FROM nodes_before_keys").toArray()).toEqual([
        { id: "node-before-keys", requests: 3 },
      ]);
      expect(registry.list(Date.now())).toEqual([]);
      expect(hasColumn(sql, "nodes", "keyid")).toBe(true);
      expect(sql.exec("SELECT tbl_name FROM sqlite_master WHERE name = 'nodes_last_heartbeat'").toArray()).toEqual([
        { tbl_name: "nodes" },
      ]);
      const hb: Heartbeat = {
        node_id: node.id,
        url: "http://127.0.0.1:46001/",
        models: [],
        capacity: 1,
        in_flight: 0,
        timestamp: 1,
        seq: 1,
      };
      const signature = {
        keyId: node.id,
        publicKey: node.publicKey,
        nonce: "n1",
        createdAt: Date.now(),
        nonceExpiresAt: Date.now() + 60_000,
      };
      expect(registry.heartbeat(hb, signature, Date.now(), "203.0.113.2")).toMatchObject({
        ok: true,
        registered: true,
      });
    });
  });

  it("ApiKeys keeps its keys, adding the limit columns as no limits", async () => {
    await runInDurableObject(fresh(env.SETTLEMENTS), (_obj, state) => {
      const { sql } = state.storage;
      dropAll(sql);
      sql.exec(`CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL, revoked INTEGER
      )`);
      sql.exec("INSERT INTO api_keys VALUES ('key_old', 'old', 'hash-old', 5, NULL)");
      const keys = new ApiKeys(state, env);
      expect(schemaVersion(sql)).toBe(API_KEYS_MIGRATIONS.length);
      expect(keys.list()).toEqual([
        { id: "key_old", name: "old", created: 5, revoked: null, budget: null, rpm: null, tpm: null },
      ]);
    });
  });

  it("EarningsShard keeps its rows", async () => {
    await runInDurableObject(fresh(env.EARNINGS), (_obj, state) => {
      const { sql } = state.storage;
      // As its code left it before versions: the same tables, no record of a version.
      sql.exec("DROP TABLE schema_version");
      sql.exec("INSERT INTO closes VALUES ('stl_a', 0, 10)");
      new EarningsShard(state, env);
      expect(sql.exec("SELECT settlement_id FROM closes").toArray()).toEqual([{ settlement_id: "stl_a" }]);
      expect(schemaVersion(sql)).toBe(EARNINGS_MIGRATIONS.length);
    });
  });

  it("Settlements keeps its rows", async () => {
    await runInDurableObject(fresh(env.SETTLEMENTS), (_obj, state) => {
      const { sql } = state.storage;
      sql.exec("DROP TABLE schema_version");
      // Nor what later steps added.
      sql.exec("DROP TABLE shard_layout");
      sql.exec("ALTER TABLE settlements DROP COLUMN shards");
      sql.exec("INSERT INTO settlements VALUES ('stl_a', 0, 10, 11, 'closing', NULL)");
      new Settlements(state, env);
      expect(sql.exec("SELECT id, status FROM settlements").toArray()).toEqual([{ id: "stl_a", status: "closing" }]);
      expect(schemaVersion(sql)).toBe(SETTLEMENTS_MIGRATIONS.length);
    });
  });
});

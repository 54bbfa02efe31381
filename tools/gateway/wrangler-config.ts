// What the local gateway needs from wrangler.toml, read from the file itself so the deployment config stays the one
// source of truth: entry point, compatibility settings, Durable Object bindings (SQLite or not, from the migrations),
// plain vars, Cron Triggers and static assets. A binding kind the local gateway cannot serve is an error rather than a silently
// missing binding.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseToml, type TomlPrimitive, type TomlTable } from "smol-toml";

type TomlValue = TomlPrimitive | TomlTable | TomlValue[];

export interface DurableObjectBinding {
  className: string;
  useSQLite: boolean;
}

export interface GatewayConfig {
  /** Absolute path of the Worker's entry module. */
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  durableObjects: Record<string, DurableObjectBinding>;
  vars: Record<string, string | number | boolean>;
  /** `[triggers] crons`: schedules the Worker's scheduled() handler runs on in production. */
  crons: string[];
  /** `[assets]`: static files the Worker reaches through a binding; absent when wrangler.toml declares none. */
  assets?: AssetsConfig;
}

export interface AssetsConfig {
  /** Absolute path of the files' directory. */
  directory: string;
  binding: string;
}

/** Keys that declare bindings; support has to be added here before the Worker can use one locally. */
const UNSUPPORTED_BINDINGS = [
  "kv_namespaces",
  "r2_buckets",
  "d1_databases",
  "services",
  "queues",
  "ai",
  "analytics_engine_datasets",
  "hyperdrive",
  "vectorize",
  "browser",
  "workflows",
  "send_email",
  "mtls_certificates",
  "dispatch_namespaces",
  "tail_consumers",
  "secrets_store_secrets",
  "unsafe",
  "version_metadata",
  "images",
  "ratelimits",
];

const isTable = (v: TomlValue | undefined): v is TomlTable =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

function str(table: TomlTable, key: string, where: string): string {
  const v = table[key];
  if (typeof v !== "string") throw new Error(`${where}: '${key}' must be a string`);
  return v;
}

function strings(table: TomlTable, key: string, where: string): string[] {
  const v = table[key] ?? [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string"))
    throw new Error(`${where}: '${key}' must be an array of strings`);
  return v as string[];
}

function tables(v: TomlValue | undefined, where: string): TomlTable[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isTable)) throw new Error(`${where} must be an array of tables`);
  return v as TomlTable[];
}

/** `renamed_classes = [{ from, to }]`: the class under its new name keeps the old one's storage. */
function renames(m: TomlTable, where: string): { from: string; to: string }[] {
  return tables(m["renamed_classes"], `${where}: renamed_classes`).map((r) => ({
    from: str(r, "from", where),
    to: str(r, "to", where),
  }));
}

/**
 * Classes created by a `new_sqlite_classes` migration (and not later deleted) store their state in SQLite; a rename
 * carries that over to the new name, in migration order.
 */
function sqliteClasses(raw: TomlTable, where: string): Set<string> {
  const sqlite = new Set<string>();
  for (const m of tables(raw["migrations"], `${where}: migrations`)) {
    for (const c of strings(m, "new_sqlite_classes", `${where}: migrations`)) sqlite.add(c);
    for (const { from, to } of renames(m, `${where}: migrations`)) {
      if (sqlite.delete(from)) sqlite.add(to);
    }
    for (const c of strings(m, "deleted_classes", `${where}: migrations`)) sqlite.delete(c);
  }
  return sqlite;
}

/**
 * The local gateway's socket goes straight into the Worker, past Miniflare's asset router, so it can only serve
 * assets the way `run_worker_first = true` does: through the binding, from the Worker's own routes.
 */
function assetsConfig(raw: TomlTable, path: string): AssetsConfig | undefined {
  const assets = raw["assets"];
  if (assets === undefined) return undefined;
  const where = `${path}: assets`;
  if (!isTable(assets)) throw new Error(`${where} must be a table`);
  if (assets["run_worker_first"] !== true)
    throw new Error(`${where}: tools/gateway serves assets only with run_worker_first = true (through the binding)`);
  return { directory: resolve(dirname(path), str(assets, "directory", where)), binding: str(assets, "binding", where) };
}

export function gatewayConfigFrom(raw: TomlTable, path: string): GatewayConfig {
  for (const key of UNSUPPORTED_BINDINGS) {
    if (key in raw) throw new Error(`${path}: '${key}' bindings are not supported by tools/gateway yet`);
  }
  const sqlite = sqliteClasses(raw, path);
  const durableObjects: Record<string, DurableObjectBinding> = {};
  const doSection = raw["durable_objects"];
  for (const b of tables(isTable(doSection) ? doSection["bindings"] : undefined, `${path}: durable_objects.bindings`)) {
    const where = `${path}: durable_objects.bindings`;
    if ("script_name" in b) throw new Error(`${where}: Durable Objects of other scripts are not supported`);
    const className = str(b, "class_name", where);
    durableObjects[str(b, "name", where)] = { className, useSQLite: sqlite.has(className) };
  }
  const vars: GatewayConfig["vars"] = {};
  const rawVars = raw["vars"] ?? {};
  if (!isTable(rawVars)) throw new Error(`${path}: 'vars' must be a table`);
  for (const [name, v] of Object.entries(rawVars)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
      throw new Error(`${path}: var '${name}' must be a string, number or boolean`);
    vars[name] = v;
  }
  const triggers = raw["triggers"] ?? {};
  if (!isTable(triggers)) throw new Error(`${path}: 'triggers' must be a table`);
  const assets = assetsConfig(raw, path);
  return {
    main: resolve(dirname(path), str(raw, "main", path)),
    compatibilityDate: str(raw, "compatibility_date", path),
    compatibilityFlags: strings(raw, "compatibility_flags", path),
    durableObjects,
    vars,
    crons: strings(triggers, "crons", `${path}: triggers`),
    ...(assets ? { assets } : {}),
  };
}

export function readGatewayConfig(path: string): GatewayConfig {
  return gatewayConfigFrom(parseToml(readFileSync(path, "utf8")), path);
}

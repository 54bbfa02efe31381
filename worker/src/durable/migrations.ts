// Schema upgrades for every Durable Object's SQLite: a list of numbered steps, of which each database runs the ones
// it has not had yet, in order, in one transaction with the record of how far it got. A half-applied upgrade cannot
// be mistaken for a finished one, and no step needs to be idempotent except a first, legacy one (see below).
//
// The version lives in a one-row table: Durable Object SQLite refuses PRAGMA user_version (SQLITE_AUTH).
//
// Databases from before this helper have no version. Their first step is "legacy": it must accept both a fresh
// database and one made by the code that ran before, so it creates with IF NOT EXISTS and adds only the columns a
// probe finds missing. After it, the recorded version decides and nothing is probed again.

/** One upgrade. Deployed steps never change and are never removed: new ones are appended. */
export type Migration = (sql: SqlStorage) => void;

/** A column an older table may lack, with its full definition for ALTER TABLE ... ADD COLUMN. */
export interface AddedColumn {
  column: string;
  definition: string;
}

const VERSION_TABLE =
  "CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)";

/** How many steps this database has had (0 for a fresh one or one from before versions). */
export function schemaVersion(sql: SqlStorage): number {
  if (!hasTable(sql, "schema_version")) return 0;
  return sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0]?.version ?? 0;
}

/**
 * Runs the steps after this database's version, then records `steps.length`, all in one transaction: a step that
 * throws leaves the database as it was. A database already past `steps` was upgraded by newer code; it is refused
 * rather than used by code that does not know its schema.
 */
export function migrate(storage: DurableObjectStorage, steps: readonly Migration[]): void {
  storage.transactionSync(() => {
    const { sql } = storage;
    sql.exec(VERSION_TABLE);
    const version = schemaVersion(sql);
    if (version > steps.length)
      throw new Error(`schema version ${version} is newer than this code, which knows ${steps.length} steps`);
    if (version === steps.length) return;
    for (const step of steps.slice(version)) step(sql);
    sql.exec(
      "INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = " +
        "excluded.version",
      steps.length,
    );
  });
}

export function hasTable(sql: SqlStorage, table: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray().length > 0;
}

export function hasColumn(sql: SqlStorage, table: string, column: string): boolean {
  return sql.exec("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", table, column).toArray().length > 0;
}

/**
 * For legacy steps: adds the columns `table` lacks. Names and definitions are this code's constants (DDL cannot take
 * bound parameters), never input.
 */
export function addMissingColumns(sql: SqlStorage, table: string, columns: readonly AddedColumn[]): void {
  for (const { column, definition } of columns) {
    if (!hasColumn(sql, table, column)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
  }
}

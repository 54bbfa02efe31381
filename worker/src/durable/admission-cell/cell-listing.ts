// An admission cell's view of its nodes: its share of the registry's listing as a routing table, read when there is
// none, when it is too old to use, or when the registry said it changed, and otherwise again behind requests once a
// second. A failed read falls back on a view still young enough to route by.
import { NODE_TTL_MS } from "@meshgate/schemas";
import { parsePriceCeilings } from "../../billing/price-ceiling.js";
import { nodeUrlPolicy } from "../../limits/node-url-policy.js";
import {
  buildTable,
  observeInTable,
  type OutcomeMemory,
  type RouteNode,
  type RoutingTable,
} from "../../routing/index.js";
import { nodeRegistry } from "../names.js";
import { allowedNodes, toRouteNode } from "../node-registry/route-nodes.js";

/** The cell's node list is read again from the registry this often while requests come. */
export const CELL_REFRESH_MS = 1_000;

export interface CellTable {
  cell: number;
  cells: number;
  /** The listing generation this view was read for (see invalidate). */
  generation: number;
  table: RoutingTable;
  publicKeys: Map<string, string>;
  fetchedAt: number;
}

export class CellListing {
  current: CellTable | null = null;
  /** A read of the listing under way, and the generation it reads for. */
  private reading: { generation: number; cell: number; cells: number; table: Promise<CellTable> } | null = null;
  /** Bumped by every listing change the registry reports: a table read for an older one is not used again. */
  private generation = 0;

  /**
   * `held`: the node's leases now (the table's load); `unwritten`: outcomes the cell learned that the registry may not
   * have yet, applied again to every table read.
   */
  constructor(
    private readonly env: Env,
    private readonly held: (nodeId: string) => number,
    private readonly unwritten: OutcomeMemory,
  ) {}

  invalidate(): void {
    this.generation++;
  }

  /** On this object's own clock (`wall`), as the registry judges liveness; leases run on the caller's `now`. */
  async tableFor(cell: number, cells: number, wall: number): Promise<CellTable> {
    const table = this.current;
    const usable =
      table !== null && table.cell === cell && table.cells === cells && wall - table.fetchedAt < NODE_TTL_MS;
    if (usable && table.generation >= this.generation) {
      if (wall - table.fetchedAt >= CELL_REFRESH_MS && !this.reading)
        this.read(cell, cells, wall).catch((err: unknown) => console.error("cell refresh failed", String(err)));
      return table;
    }
    try {
      return await this.read(cell, cells, wall);
    } catch (err) {
      if (!usable) throw err;
      console.error("cell listing read failed; routing by the last one", String(err));
      return table;
    }
  }

  /** Reads the listing, joining a read under way if it is for the current generation and the same cells. */
  private read(cell: number, cells: number, wall: number): Promise<CellTable> {
    const reading = this.reading;
    if (reading && reading.generation === this.generation && reading.cell === cell && reading.cells === cells)
      return reading.table;
    const generation = this.generation;
    const table = this.readListing(cell, cells, wall, generation).finally(() => {
      if (this.reading?.table === table) this.reading = null;
    });
    this.reading = { generation, cell, cells, table };
    return table;
  }

  private async readListing(cell: number, cells: number, wall: number, generation: number): Promise<CellTable> {
    const requestedAt = Date.now();
    const listed = await nodeRegistry(this.env).cellSnapshot(cell, cells, wall);
    const nodes = allowedNodes(listed, nodeUrlPolicy(this.env));
    const ceilings = parsePriceCeilings(this.env.PRICE_CEILINGS);
    if ("error" in ceilings) throw new Error(ceilings.error);
    const load = (node: RouteNode): number => this.held(node.id);
    const routing: RoutingTable = buildTable(
      nodes.map((n) => toRouteNode(n, ceilings)),
      wall,
      load,
    );
    for (const outcome of this.unwritten.notIn(requestedAt)) observeInTable(routing, outcome);
    const table = {
      cell,
      cells,
      generation,
      table: routing,
      publicKeys: new Map(nodes.map((n) => [n.id, n.public_key])),
      fetchedAt: wall,
    };
    // Reads may overlap (a listing change starts a new one): the one for the newest generation stands.
    if (!this.current || this.current.generation <= generation) this.current = table;
    return table;
  }
}

// The simulator, the benchmark's mesh and statistical tests draw from the one seeded source in @meshgate/schemas.
export { seededRandom } from "@meshgate/schemas";

/**
 * The Postgres a benchmark measures on: `TEST_DATABASE_URL` when given, else a throwaway cluster
 * from the Debian server binaries (stop it with its `stop()`), else none (SQLite only).
 */
import { type Cluster, findServerBinaries, startCluster } from '../../test/support/postgres.js';

/** The URL to measure on, with the cluster to stop afterwards (`null` when one was given). */
export async function postgresUrl(): Promise<{ url: string; cluster: Cluster | null } | null> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) return { url: given, cluster: null };
  const binaries = findServerBinaries();
  if (binaries === null) return null;
  const cluster = await startCluster(binaries);
  return { url: cluster.url, cluster };
}

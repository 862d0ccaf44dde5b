/**
 * Waits for the served model to be replaced. A read that failed on a column the table no longer has
 * was planned on a model a schema change has replaced in the database: the DDL commits (and the read
 * waiting for the table's lock runs) before this process swaps the next model in, and another process's
 * change is seen within the lifecycle's poll. Answers whether a newer model is served within `withinMs`.
 */
import type { EdmModel } from '../edm/model';

const POLL_MS = 10;

export async function newerModelServed(served: () => EdmModel, seen: EdmModel, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (served() === seen) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

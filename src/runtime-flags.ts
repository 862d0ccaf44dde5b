/**
 * V8 settings of the service's process, given on its command line (`npm start`; cluster workers inherit
 * them; the benchmark starts the service with them): V8 reads them once, when the heap is made.
 *
 * None at present. `--max-semi-space-size=4` (a bounded young generation) took ~25-45 MB off the peak
 * RSS of ten concurrent 1000-part change sets, but a page of 100 full contacts then ran at 280 req/s
 * instead of 423 (page_first on SQLite, same run, bench/README.md "V8 young generation of the main
 * process"): rows that outlive a scavenge while ten requests are in flight get promoted and collected
 * by the old generation's collector. The read processes keep 2 MB (db/read-pool.ts): their rows die
 * as soon as they are sent.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = [];

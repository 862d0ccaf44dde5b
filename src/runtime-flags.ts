/**
 * V8 settings of the service's process, given on its command line (`npm start`; cluster workers inherit
 * them; the benchmark starts the service with them): V8 reads them once, when the heap is made.
 *
 * `--heap-growing-percent=50`: after a full collection V8 lets the old generation grow to 1.5 times what
 * survived it before the next one, rather than up to 4 times (its own factor on a machine with this much
 * memory, picked from how fast the collector runs against the program). The service's old generation
 * holds ~20-25 MB of live data; ten concurrent 1000-part change sets promote ~1 MB each per change set, and
 * how far the old generation grew before its next collection set the peak RSS: up to 83-88 MB of old space
 * and 206-264 MB shared once (main process + read processes) without the setting, 41 MB and 199-209 MB with
 * it (bench/README.md "Memory of ten change sets"). Full collections came 13 instead of 9 over the read
 * scenarios and the change sets, 128 instead of 64 ms of pauses in ~60 s of load; the young generation's
 * scavenges took 1.8 s either way.
 *
 * Not `--max-semi-space-size=4` (a bounded young generation): it took ~25-45 MB off the same peak, but a
 * page of 100 full contacts then ran at 280 req/s instead of 423 (page_first on SQLite, same run,
 * bench/README.md "V8 young generation of the main process"): rows that outlive a scavenge while ten
 * requests are in flight get promoted and collected by the old generation's collector. The read processes
 * keep 2 MB (db/read-pool.ts): their rows die as soon as they are sent.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=50'];

/**
 * V8 settings of the service's process, given on its command line (`npm start`; cluster workers inherit
 * them; the benchmark starts the service with them): V8 reads them once, when the heap is made.
 *
 * `--max-semi-space-size=4`: the young generation grows to 2 x 16 MB by default under a write load
 * (a change set of 1 000 inserts allocates ~30 MB of short-lived objects); ten concurrent change sets
 * peaked at 201-238 MB of RSS in the main process. Objects that outlive a request (parsed batches,
 * statements, plans) are promoted after two scavenges either way, so a smaller young generation costs
 * more frequent but shorter scavenges, not more copying per object. The read processes use 2 MB
 * (db/read-pool.ts).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/**
 * `/metrics` under `--workers N`: the worker that receives the scrape asks the primary, which
 * collects every worker's registries through prom-client's AggregatorRegistry (counters and
 * histograms summed, `odata_model_info` by its maximum) and sends the text back. So one scrape
 * shows the whole service, whichever worker answers it.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const ASK = 'odata:cluster-metrics?';
const ANSWER = 'odata:cluster-metrics';
const ANSWER_TIMEOUT_MS = 6000;

interface Ask { readonly type: typeof ASK; readonly id: number }
interface Answer { readonly type: typeof ANSWER; readonly id: number; readonly text?: string; readonly error?: string }

function isAsk(message: unknown): message is Ask {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === ASK;
}

function isAnswer(message: unknown): message is Answer {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === ANSWER;
}

/** Primary: answers its workers' requests for the aggregated metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isAsk(message)) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text } satisfies Answer),
      (err: unknown) => worker.send({ type: ANSWER, id: message.id, error: err instanceof Error ? err.message : String(err) } satisfies Answer),
    );
  });
}

/**
 * Worker: offers `registries` to the primary's aggregation and returns the function that fetches
 * the aggregated text (undefined outside a cluster worker).
 */
export function clusterMetricsOf(registries: Registry[]): (() => Promise<string>) | undefined {
  if (!cluster.isWorker || process.send === undefined) return undefined;
  // constructing one installs prom-client's answer to the primary's requests (it answers with `registries`)
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries(registries);
  const waiting = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  let nextId = 1;
  process.on('message', (message: unknown) => {
    if (!isAnswer(message)) return;
    const waiter = waiting.get(message.id);
    if (waiter === undefined) return;
    waiting.delete(message.id);
    if (message.text !== undefined) waiter.resolve(message.text);
    else waiter.reject(new Error(message.error ?? 'the primary sent no metrics'));
  });
  return () => new Promise<string>((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the primary did not answer in time'));
    }, ANSWER_TIMEOUT_MS);
    waiting.set(id, {
      resolve: (text) => { clearTimeout(timer); resolve(text); },
      reject: (err) => { clearTimeout(timer); reject(err); },
    });
    process.send!({ type: ASK, id } satisfies Ask);
  });
}

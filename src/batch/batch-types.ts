/**
 * A `$batch` request split into its parts, whatever its format (multipart/mixed or JSON), and the
 * answers to write back in the same format. The parsers produce these; the executor consumes them.
 */

/** One request inside a batch, as sent: URL not yet resolved, body still raw. */
export interface BatchPart {
  /** Content-ID (multipart) or `id` (JSON); references `$<id>` point at it */
  readonly id?: string;
  readonly method: string;
  /** as written in the part: absolute, root-relative (`/odata/Contacts`), service-relative (`Contacts`) or `$<id>/…` */
  readonly url: string;
  /** lower-case names */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** JSON batch: a JSON body as parsed with the batch (then `body` is unset); never encoded again */
  readonly json?: { readonly value: unknown };
  /** JSON batch: ids of requests that must have succeeded first */
  readonly dependsOn?: readonly string[];
}

export type BatchItem =
  | { readonly kind: 'request'; readonly part: BatchPart }
  /** a change set (multipart) or atomicity group (JSON): all parts in one transaction */
  | { readonly kind: 'changeset'; readonly id: string; readonly parts: readonly BatchPart[] };

export interface BatchLimits {
  /** parts in the whole batch, change-set members included */
  readonly maxParts: number;
  /** bytes of one part (headers and body) */
  readonly maxPartBytes: number;
}

/** The answer to one part. */
export interface PartResponse {
  readonly id?: string;
  readonly status: number;
  /** header names as they should be written (e.g. `Content-Type`, `Location`) */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** JSON batch: the atomicity group of a failed change set's one answer (members of a committed one take the group's id) */
  readonly atomicityGroup?: string;
}

export type ResponseItem =
  | { readonly kind: 'response'; readonly response: PartResponse }
  /** a change set that succeeded: one response per part, in order */
  | { readonly kind: 'changeset'; readonly id: string; readonly responses: readonly PartResponse[] };

/**
 * Where the executor puts each answer as soon as it has it, in the order of the batch: a format's
 * writer encodes it on the spot (so a change set's thousand answers are bytes, not objects), or a
 * collector keeps the answers as ResponseItems.
 */
export interface BatchAnswers {
  /** the answer to a request outside change sets, or a failed change set's one answer */
  response(response: PartResponse): void;
  /** a change set starts: its members' answers follow, until it is closed or dropped */
  openChangeSet(id: string): void;
  member(response: PartResponse): void;
  /** the change set was committed: its members' answers stand */
  closeChangeSet(): void;
  /** it was rolled back: the members' answers given since it opened are forgotten (its one answer follows as a `response`) */
  dropChangeSet(): void;
}

/** Where the status monitors of asynchronous batches live, below the service root. */
export const BATCH_STATUS_SEGMENT = '$batch-status';

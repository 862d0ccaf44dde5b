/** Runs a parser call that must fail and returns its UriError (any other outcome fails the test). */
import { UriError } from '../../src/errors/odata-error';

export function uriErrorOf(run: () => unknown): UriError {
  try {
    run();
  } catch (err) {
    if (err instanceof UriError) return err;
    throw err;
  }
  throw new Error('expected a UriError');
}

/** Runs a call that must fail with an OData error of a given class and returns it (any other outcome fails the test). */
import { ODataError, UriError } from '../../src/errors/odata-error';

export function errorOf<E extends ODataError>(run: () => unknown, type: new (...args: never[]) => E): E {
  try {
    run();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}

/** A parser call that must fail with a UriError. */
export function uriErrorOf(run: () => unknown): UriError {
  return errorOf(run, UriError);
}

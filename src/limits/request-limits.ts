/**
 * Limits on the shape of a request checked before it is planned: the URL's length (414) and the
 * width of `$select` and `$expand` (400 `LIMIT_EXCEEDED`), each naming its setting. Applied to every
 * request the handler sees, `$batch` parts and `POST …/$query` included.
 */
import { ODataError } from '../errors/odata-error';
import type { QueryOptions } from '../uri/ast';

export interface RequestLimits {
  /** characters of the URL below the service root (path, `?` and query) */
  readonly maxUrlLength: number;
  /** `$select` items in the whole request, nested `$select`s in `$expand` included */
  readonly maxSelectItems: number;
  /** `$expand` items in the whole request, nested levels included (`*` counts once) */
  readonly maxExpandItems: number;
}

export function checkUrlLength(path: string, query: string, limits: RequestLimits): void {
  const length = path.length + (query === '' ? 0 : query.length + 1);
  if (length > limits.maxUrlLength) {
    throw new ODataError('URI_TOO_LONG',
      `The URL is ${length} characters long; ODATA_MAX_URL_LENGTH allows ${limits.maxUrlLength} (send long queries as POST …/$query)`);
  }
}

export function checkQueryWidth(options: QueryOptions, limits: RequestLimits): void {
  const width = { select: 0, expand: 0 };
  countItems(options, width);
  if (width.select > limits.maxSelectItems) {
    throw new ODataError('LIMIT_EXCEEDED', `$select names ${width.select} items; ODATA_MAX_SELECT_ITEMS allows ${limits.maxSelectItems}`, { target: '$select' });
  }
  if (width.expand > limits.maxExpandItems) {
    throw new ODataError('LIMIT_EXCEEDED', `$expand names ${width.expand} navigations; ODATA_MAX_EXPAND_ITEMS allows ${limits.maxExpandItems}`, { target: '$expand' });
  }
}

function countItems(options: QueryOptions, width: { select: number; expand: number }): void {
  width.select += options.select?.length ?? 0;
  for (const item of options.expand ?? []) {
    width.expand += 1;
    countItems(item.options, width);
  }
}

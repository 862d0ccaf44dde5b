/**
 * What every answer of the handler shares: the OData version it speaks, the version headers a request
 * may send, and the shape of an error answer. Used by the single-request handler and the run handler.
 */
import { ODataError } from '../errors/odata-error';
import type { ApiRequest, ApiResponse } from './api-request';

export const ODATA_VERSION = '4.0';

export function errorResponse(err: ODataError): ApiResponse {
  return {
    status: err.status,
    headers: { 'Content-Type': 'application/json;odata.metadata=minimal', 'OData-Version': ODATA_VERSION },
    body: JSON.stringify(err.toJSON()),
  };
}

export function checkVersions(headers: ApiRequest['headers']): void {
  const max = headers['odata-maxversion'];
  if (max !== undefined && !(Number.parseFloat(max) >= 4.0)) {
    throw new ODataError('UNSUPPORTED_VERSION', `This service speaks OData 4.0; OData-MaxVersion ${max} is too low`, { target: 'OData-MaxVersion' });
  }
  const version = headers['odata-version'];
  if (version !== undefined && !['4.0', '4.01'].includes(version.trim())) {
    throw new ODataError('UNSUPPORTED_VERSION', `OData-Version ${version} is not supported; use 4.0 or 4.01`, { target: 'OData-Version' });
  }
}

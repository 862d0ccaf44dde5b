/**
 * The service document (JSON Format §5): every entity set of the container.
 */
import type { EdmModel } from '../edm/model';
import type { JsonFormat } from './format';

export function serviceDocument(model: EdmModel, serviceRoot: string, format: JsonFormat): Record<string, unknown> {
  const value = [...model.entitySets.values()].map((s) => ({ name: s.name, kind: 'EntitySet', url: s.name }));
  return format.metadata === 'none' ? { value } : { '@odata.context': `${serviceRoot}/$metadata`, value };
}

/**
 * The service document (JSON Format §5): every entity set and singleton of the container, and the
 * function imports marked IncludeInServiceDocument.
 */
import type { EdmModel } from '../edm/model';
import type { JsonFormat } from './format';

export function serviceDocument(model: EdmModel, serviceRoot: string, format: JsonFormat): Record<string, unknown> {
  const value: { name: string; kind: string; url: string }[] = [...model.entitySets.values()].map((s) => ({ name: s.name, kind: 'EntitySet', url: s.name }));
  for (const s of model.singletons.values()) value.push({ name: s.name, kind: 'Singleton', url: s.name });
  for (const i of model.operationImports.values()) {
    if (i.kind === 'function' && i.includeInServiceDocument) value.push({ name: i.name, kind: 'FunctionImport', url: i.name });
  }
  return format.metadata === 'none' ? { value } : { '@odata.context': `${serviceRoot}/$metadata`, value };
}

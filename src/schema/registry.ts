/** The definition sets (src/schema/definition-sets.ts) by entity set name. */
import type { DefinitionSet } from './definition-sets';
import { fieldDefinitions } from './field-definitions';
import { tableDefinitions } from './table-definitions';

export const DEFINITION_SETS: ReadonlyMap<string, DefinitionSet> = new Map([fieldDefinitions, tableDefinitions].map((s) => [s.setName, s]));

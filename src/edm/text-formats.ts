/**
 * Text properties whose values have a form, declared by vocabulary annotations in the CSDL:
 * `Org.OData.Core.V1.IsURL`, and `Crm.IsEmailAddress`, `Crm.IsPhoneNumber` (terms of the Crm schema:
 * the OASIS vocabularies have none for e-mail or phone; they mirror SAP's Communication vocabulary,
 * which the conformance material here cannot check). The write path checks values of annotated
 * properties, built-in and custom alike. An empty string stays allowed: a blank, not a malformed value.
 */
import { memoizedByObject } from '../memo';
import type { EdmModel, EdmProperty } from './model';

export type TextFormat = 'url' | 'email' | 'phone';

const TERMS: readonly (readonly [string, TextFormat])[] = [
  ['@Org.OData.Core.V1.IsURL', 'url'],
  ['@Crm.IsEmailAddress', 'email'],
  ['@Crm.IsPhoneNumber', 'phone'],
];

type Json = Record<string, unknown>;

/** Every annotated property object of the model (entity and complex types), with its form. */
const formatsOf: (model: EdmModel) => ReadonlyMap<EdmProperty, TextFormat> = memoizedByObject((model) => {
  const out = new Map<EdmProperty, TextFormat>();
  const schema = (model.csdl[model.namespace] ?? {}) as Json;
  const types = [...model.entityTypes.values(), ...model.complexTypes.values()];
  for (const type of types) {
    const declared = (schema[type.name] ?? {}) as Json;
    for (const property of type.properties) {
      const annotations = (declared[property.name] ?? {}) as Json;
      const found = TERMS.find(([term]) => annotations[term] === true);
      if (found) out.set(property, found[1]);
    }
  }
  return out;
});

export function textFormatOf(model: EdmModel, property: EdmProperty): TextFormat | undefined {
  return formatsOf(model).get(property);
}

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE = /^\+?[0-9() ./-]+((\s*(x|ext\.?)\s*)[0-9]+)?$/i;
const MIN_PHONE_DIGITS = 1;
const MAX_PHONE_DIGITS = 20;

/** Why `value` is not of the form (undefined: it is). */
export function textFormatProblem(format: TextFormat, value: string): string | undefined {
  if (value === '') return undefined;
  switch (format) {
    case 'email':
      return EMAIL.test(value) && value.length <= 254 ? undefined : `'${value}' is not an e-mail address (name@domain.tld)`;
    case 'phone': {
      const digits = value.replace(/\D/g, '').length;
      return PHONE.test(value) && digits >= MIN_PHONE_DIGITS && digits <= MAX_PHONE_DIGITS
        ? undefined : `'${value}' is not a phone number (digits, spaces, ( ) . - /, an optional leading + and extension)`;
    }
    case 'url':
      return isWebUrl(value) ? undefined : `'${value}' is not an absolute http or https URL`;
  }
}

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

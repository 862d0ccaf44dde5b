/**
 * `GET <root>/openapi.json`: the OpenAPI 3.0 description of the live model, made by the OASIS
 * CSDL-to-OpenAPI converter (npm `odata-openapi`) from the same annotated CSDL JSON that `$metadata`
 * answers, so custom fields and tables appear as soon as the model has them. Converting takes a few
 * hundred milliseconds, so the result is kept per model object (a replaced model is a new object:
 * the old entry goes with it); only the `servers` entry differs between clients (the service root
 * as each one sees it, behind proxies too), so the text is kept per root as well, a few roots at most.
 */
import { createHash } from 'node:crypto';
import { csdl2openapi } from 'odata-openapi';
import type { EdmModel } from '../../edm/model';
import type { MetadataLimits } from '../../edm/capabilities';
import { metadataDocument } from '../../edm/metadata-document';
import { SERVICE_TITLE, SERVICE_VERSION } from './service-info';

export interface OpenApiText {
  readonly text: string;
  /** a strong validator of the text: the same model and root give the same ETag */
  readonly etag: string;
}

export interface SignInSchemes {
  /** the query parameter that may carry a token (empty: none) */
  readonly apiKeyParameter: string;
}

type Json = Record<string, unknown>;

/**
 * `full`: the converter's document. `explorer`: the same, except that navigation properties in the
 * entity schemas are untyped objects (named in their description) instead of references: OData's
 * two-way navigations make every entity schema reach every other, and Swagger UI resolves such a
 * web of references for minutes before it shows an operation (swagger-ui issues 3325, 6197).
 */
export type OpenApiVariant = 'full' | 'explorer';

interface ModelEntry {
  readonly documents: Readonly<Record<OpenApiVariant, Readonly<Json>>>;
  readonly byRoot: Map<string, OpenApiText>;
}

const AUTH = 'Org.OData.Authorization.V1';
/** service roots remembered per model (one per public URL or proxy prefix in use; oldest forgotten first) */
const ROOTS_PER_MODEL = 4;
const cache = new WeakMap<EdmModel, ModelEntry>();

/** The document for `model` as seen from `serviceRoot`, converted once per model. */
export function openApiDocument(model: EdmModel, limits: MetadataLimits, schemes: SignInSchemes, serviceRoot: string, variant: OpenApiVariant = 'full'): OpenApiText {
  let entry = cache.get(model);
  if (entry === undefined) {
    const full = convert(model, limits, schemes);
    entry = { documents: { full, explorer: withShallowNavigation(full, model) }, byRoot: new Map() };
    cache.set(model, entry);
  }
  const key = `${variant} ${serviceRoot}`;
  const hit = entry.byRoot.get(key);
  if (hit !== undefined) return hit;
  const text = JSON.stringify(Object.assign({}, entry.documents[variant], { servers: [{ url: serviceRoot }] }));
  const made = { text, etag: `"${createHash('sha256').update(text).digest('base64url').slice(0, 32)}"` };
  if (entry.byRoot.size >= ROOTS_PER_MODEL * 2) entry.byRoot.delete(entry.byRoot.keys().next().value as string);
  entry.byRoot.set(key, made);
  return made;
}

function withShallowNavigation(document: Readonly<Json>, model: EdmModel): Json {
  const components = document.components as Json;
  const schemas = Object.assign({}, components.schemas as Record<string, Json>);
  for (const type of model.entityTypes.values()) {
    const schema = schemas[type.qualifiedName];
    const properties = schema?.properties as Record<string, Json> | undefined;
    if (properties === undefined || type.navigations.length === 0) continue;
    const shallow = Object.assign({}, properties);
    for (const navigation of type.navigations) {
      if (!(navigation.name in shallow)) continue;
      const description = `${navigation.targetTypeName} (with $expand=${navigation.name})`;
      shallow[navigation.name] = navigation.collection
        ? { type: 'array', items: { type: 'object' }, description }
        : { type: 'object', nullable: true, description };
    }
    schemas[type.qualifiedName] = Object.assign({}, schema, { properties: shallow });
  }
  return Object.assign({}, document, { components: Object.assign({}, components, { schemas }) });
}

function convert(model: EdmModel, limits: MetadataLimits, schemes: SignInSchemes): Json {
  const csdl = JSON.parse(metadataDocument(model, limits, 'json')) as Json;
  withSignIn(csdl, model, schemes);
  const messages: string[] = [];
  const document = csdl2openapi(csdl, {
    scheme: 'http', host: 'localhost', basePath: '/odata',
    openapiVersion: '3.0.2',
    defaultTitle: SERVICE_TITLE,
    defaultDescription: DESCRIPTION,
    messages,
  }) as Json;
  const info = Object.assign({}, document.info as Json, { title: SERVICE_TITLE, version: `${SERVICE_VERSION} (model ${model.version.slice(0, 12)})` });
  return Object.assign(document, { info });
}

const DESCRIPTION = [
  'CRM data as an OData v4 service: contacts, companies, groups, opportunities, activities and more.',
  '',
  'Sign in with **Authorize**: a Bearer token (from `POST /auth/token` with `grant_type=password`,',
  'or a personal token from `POST AccessTokens`) or HTTP Basic with your user name and password.',
  '`$metadata` and the service document are readable without signing in.',
].join('\n');

/**
 * Declares the service's sign-in schemes in the container with the Authorization vocabulary, which
 * the converter maps to `components.securitySchemes` and the document's `security` (the API explorer's
 * Authorize dialog offers them). Only the converter's copy of the CSDL is changed.
 */
function withSignIn(csdl: Json, model: EdmModel, schemes: SignInSchemes): void {
  const schema = csdl[model.namespace] as Json | undefined;
  const container = schema?.[model.containerName] as Json | undefined;
  if (container === undefined) return;
  const authorizations: Json[] = [
    { '@odata.type': `#${AUTH}.Http`, Name: 'bearerAuth', Scheme: 'bearer', BearerFormat: 'opaque token',
      Description: 'An access token from POST /auth/token (grant_type=password) or a personal token (crm_pat_…)' },
    { '@odata.type': `#${AUTH}.Http`, Name: 'basicAuth', Scheme: 'basic', Description: 'User name and password' },
  ];
  if (schemes.apiKeyParameter !== '') {
    authorizations.push({ '@odata.type': `#${AUTH}.ApiKey`, Name: 'apiKeyQuery', KeyName: schemes.apiKeyParameter, Location: 'QueryOption',
      Description: 'A token in the query string (for clients that cannot send headers)' });
  }
  container[`@${AUTH}.Authorizations`] = authorizations;
  container[`@${AUTH}.SecuritySchemes`] = authorizations.map((a) => ({ Authorization: a.Name }));
}

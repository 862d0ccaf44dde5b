/** Renders a CSDL JSON document as the `$metadata` body in the CSDL JSON representation (OData CSDL JSON 4.01). */

type Json = Record<string, unknown>;

/**
 * Serializes the (already annotated) document with `$Version` first, as in the spec's examples:
 * the document's own version when it is 4.0 or 4.01, else 4.0 (this service speaks OData 4.0 and
 * advertises 4.01 via Core.ODataVersions). The document is not changed.
 */
export function renderCsdlJson(csdl: Readonly<Json>): string {
  const version = csdl.$Version === '4.01' ? '4.01' : '4.0';
  const rest: Json = { ...csdl };
  delete rest.$Version;
  return JSON.stringify({ $Version: version, ...rest });
}

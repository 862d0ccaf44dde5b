/** The part of npm `odata-openapi` (the OASIS CSDL-to-OpenAPI converter, plain JavaScript) this service calls. */
declare module 'odata-openapi' {
  export interface Csdl2OpenApiOptions {
    readonly scheme?: string;
    readonly host?: string;
    readonly basePath?: string;
    readonly diagram?: boolean;
    /** 3.0.0 to 3.0.3 or 3.1.0 */
    readonly openapiVersion?: string;
    readonly maxLevels?: number;
    /** the converter appends what it could not map */
    readonly messages?: string[];
    readonly skipBatchPath?: boolean;
    readonly defaultTitle?: string | null;
    readonly defaultDescription?: string | null;
    readonly rootResourcesToKeep?: readonly string[] | null;
  }
  export function csdl2openapi(csdl: object, options?: Csdl2OpenApiOptions): Record<string, unknown>;
}

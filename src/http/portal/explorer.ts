/**
 * The API explorer at `/docs`: Swagger UI from the `swagger-ui-dist` package (served from here, no
 * CDN) reading `<base>/openapi.json`. Every URL in the page is relative to it, so it works below a
 * proxy's prefix too. The start-up script is a file of its own, so the page needs no inline script.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { escapeHtml as h } from './html';
import { SERVICE_TITLE } from './service-info';

const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

export interface ExplorerAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The package's files the page loads (nothing else of the package is served). */
const ASSET_TYPES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const loaded = new Map<string, ExplorerAsset>();

/** A file of Swagger UI by its name below `/docs/`, read once; undefined for any other name. */
export function explorerAsset(name: string): ExplorerAsset | undefined {
  const contentType = Object.hasOwn(ASSET_TYPES, name) ? ASSET_TYPES[name] : undefined;
  if (contentType === undefined) return undefined;
  let asset = loaded.get(name);
  if (asset === undefined) {
    asset = { contentType, body: readFileSync(path.join(SWAGGER_UI_DIR, name)) };
    loaded.set(name, asset);
  }
  return asset;
}

/** The page at `/docs` (relative URLs resolve against the site root). */
export function explorerPage(basePath: string): string {
  // the explorer's variant: navigation properties untyped (openapi-document.ts says why)
  const openApi = `${basePath.replace(/^\//, '')}/openapi.json?explorer`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(SERVICE_TITLE)} – API explorer</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<noscript><p>The API explorer needs JavaScript. The OpenAPI document is at <a href="${h(openApi)}">${h(openApi)}</a>; the <a href="./">landing page</a> works without it.</p></noscript>
<div id="swagger-ui" data-openapi="${h(openApi)}"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/explorer.js"></script>
</body>
</html>
`;
}

/**
 * Starts Swagger UI on the document named by the page. No validator (it would call a third-party
 * site), "Try it out" open on every operation, and the Authorize dialog's sign-in kept for the tab.
 */
export const EXPLORER_SCRIPT = `'use strict';
window.addEventListener('load', function () {
  var element = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: new URL(element.getAttribute('data-openapi'), document.baseURI).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: true,
    persistAuthorization: false,
    docExpansion: 'none',
    defaultModelsExpandDepth: -1,
    defaultModelRendering: 'model',
    syntaxHighlight: { activated: false },
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
`;

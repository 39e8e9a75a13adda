import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Express, Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { API_KEY_SCHEME, BEARER_SCHEME } from './common/http/api-docs.decorators';
import { type CspDirectives, pagePolicy } from './common/http/security-headers';
import { VERSION } from './version';

const OPENAPI_JSON = '/docs-json';

/**
 * What Swagger UI needs: its scripts (bundle, preset and the init script with the document, all files,
 * none inline), its stylesheet plus the inline `<style>` of its page and React's style attributes, its
 * icons (files and `data:` SVGs in the stylesheet), and same-origin calls for "Try it out".
 */
const SWAGGER_UI_CSP: CspDirectives = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/**
 * What ReDoc needs: its bundle, the styles styled-components injects, `data:` images, the OpenAPI
 * document (same origin) and its search worker, which it starts from a `blob:` URL.
 */
const REDOC_CSP: CspDirectives = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'worker-src': ['blob:'],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/**
 * The documentation: Swagger UI at /docs, ReDoc at /redoc, both over the OpenAPI document at
 * /docs-json. Public, served offline (no CDN, no web fonts), each with the content security policy it
 * needs instead of the API's.
 */
export function setupSwagger(app: INestApplication): void {
  app.use('/docs', pagePolicy(SWAGGER_UI_CSP));
  app.use('/redoc', pagePolicy(REDOC_CSP));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Conflux')
      .setDescription(
        'One authenticated, metered, observable front door before every AI capability a team runs. ' +
          'Authenticate with `Authorization: Bearer <access JWT or API key>` or `X-API-Key: <key>`. ' +
          'Every error answers `{error, message, request_id, details?}`.',
      )
      .setVersion(VERSION)
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT or cfx_ API key' }, BEARER_SCHEME)
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_SCHEME)
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: OPENAPI_JSON.slice(1),
    // No "valid" badge: it would load an image from swagger.io.
    swaggerOptions: { persistAuthorization: true, validatorUrl: null },
  });
  setupRedoc(app.getHttpAdapter().getInstance() as Express);
}

/** ReDoc's standalone bundle, from the `redoc` package. */
const REDOC_BUNDLE_FILE = require.resolve('redoc/bundles/redoc.standalone.js');

/** The one thing the bundle loads from the Internet: Redocly's logo, at the foot of the menu. */
const REDOCLY_LOGO_URL = 'https://cdn.redoc.ly/redoc/logo-mini.svg';

/** Cache-Control of the bundle: its URL changes whenever its content does. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * GET /redoc: a page whose `<redoc spec-url>` element the bundle renders by itself (no inline script),
 * and the bundle, kept in memory and cached by browsers for a year under a name made of its hash. The
 * bundle's logo URL is replaced by an empty image (which ReDoc drops), so the page loads nothing from
 * elsewhere.
 */
function setupRedoc(express: Express): void {
  const bundle = Buffer.from(readFileSync(REDOC_BUNDLE_FILE, 'utf8').replaceAll(REDOCLY_LOGO_URL, 'data:,'));
  const hash = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
  const bundlePath = `/redoc/redoc.standalone.${hash}.js`;
  const page = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Conflux API reference</title>',
    '</head>',
    '<body>',
    `<redoc spec-url="${OPENAPI_JSON}"></redoc>`,
    `<script src="${bundlePath}"></script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
  express.get('/redoc', (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(page);
  });
  express.get(bundlePath, (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', IMMUTABLE);
    res.type('js').send(bundle);
  });
}

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import type { JwtModuleOptions } from '@nestjs/jwt';
import type { AppConfig } from '../config/app-config';

/**
 * Outside production an HS256 secret may be omitted: one is generated once and kept
 * in DATA_DIR so that tokens survive restarts of a development server.
 */
function localSecret(dataDir: string): string {
  const file = resolve(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  new Logger('Auth').warn(`No JWT_SECRET: generated one for development in ${file}`);
  return secret;
}

export function buildJwtOptions(config: AppConfig): JwtModuleOptions {
  const common = {
    signOptions: {
      algorithm: config.JWT_ALGORITHM,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      expiresIn: config.JWT_ACCESS_TTL_SECONDS,
    },
    verifyOptions: {
      algorithms: [config.JWT_ALGORITHM],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    },
  };
  if (config.JWT_ALGORITHM === 'RS256') {
    return { ...common, privateKey: config.JWT_PRIVATE_KEY, publicKey: config.JWT_PUBLIC_KEY };
  }
  return { ...common, secret: config.JWT_SECRET ?? localSecret(config.DATA_DIR) };
}

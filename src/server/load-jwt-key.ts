/**
 * Loading the public key that verifies client JWTs from a file, at startup: a PEM public key
 * (SPKI) or a JWKS (`{"keys": [...]}`), told apart by the file's content.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey, type KeyInput } from 'jose';
import { ParleyError } from '../errors.js';

/** A key to verify JWTs with, and the algorithms a token signed for it may use. */
export interface JwtVerifier {
  key: KeyInput | JWTVerifyGetKey;
  algorithms: string[];
}

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/**
 * Reads a PEM public key or a JWKS file into a verifier. A PEM key's algorithms are narrowed to
 * what the key can do; a JWKS accepts every supported asymmetric algorithm.
 *
 * @throws {ParleyError} `internal_error`, naming the path, when the file is missing or
 * unreadable, or is neither a usable PEM public key nor a JWKS.
 *
 * @example
 * const verifier = await loadJwtKey('/etc/parley/jwt-public.pem');
 * await jwtVerify(token, verifier.key, { algorithms: verifier.algorithms });
 */
export async function loadJwtKey(path: string): Promise<JwtVerifier> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (cause) {
    throw new ParleyError(
      'internal_error',
      `cannot read the JWT public key file ${path}: ${describe(cause)}`,
      { cause },
    );
  }
  if (text.startsWith('{')) {
    let jwks: unknown;
    try {
      jwks = JSON.parse(text);
    } catch (cause) {
      throw new ParleyError('internal_error', `the JWKS file ${path} is not valid JSON`, { cause });
    }
    try {
      return { key: createLocalJWKSet(jwks as JSONWebKeySet), algorithms: ASYMMETRIC_ALGORITHMS };
    } catch (cause) {
      throw new ParleyError(
        'internal_error',
        `the JWKS file ${path} is not a key set ({"keys": [...]}): ${describe(cause)}`,
        { cause },
      );
    }
  }
  if (text.includes('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPublicKey(text);
    } catch (cause) {
      throw new ParleyError(
        'internal_error',
        `the JWT public key file ${path} is not a valid PEM public key: ${describe(cause)}`,
        { cause },
      );
    }
    const algorithms = algorithmsFor(key);
    if (algorithms.length === 0) {
      throw new ParleyError(
        'internal_error',
        `the JWT public key file ${path} holds an unsupported ${String(key.asymmetricKeyType)} key: use RSA, EC P-256/P-384 or Ed25519`,
      );
    }
    return { key, algorithms };
  }
  throw new ParleyError(
    'internal_error',
    `the JWT public key file ${path} is neither a PEM public key nor a JWKS ({"keys": [...]})`,
  );
}

// Narrowing the list to what the key can do turns a mismatched token into "algorithm not
// allowed" instead of jose's less telling "not supported". jose cannot use rsa-pss KeyObjects
// (RSA keys with the PSS OID), so those fail at startup; plain RSA keys verify PS256 too.
function algorithmsFor(key: KeyObject): string[] {
  if (key.asymmetricKeyType === 'rsa') return ['RS256', 'RS384', 'RS512', 'PS256'];
  if (key.asymmetricKeyType === 'ed25519') return ['EdDSA'];
  if (key.asymmetricKeyType !== 'ec') return [];
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return ['ES256'];
  if (curve === 'secp384r1') return ['ES384'];
  return [];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

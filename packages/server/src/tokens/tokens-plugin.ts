import fp from 'fastify-plugin';
import { dataFiles } from '../data-files.ts';
import { backgroundErrorLogger } from '../observability/background-errors.ts';
import { createAccessTokens, type AccessTokens } from './access-tokens.ts';
import { createKeyReloader } from './key-reloader.ts';
import { loadOrCreateKeyFile, type KeyMaterial } from './key-store.ts';

export interface Tokens {
  /** The key material as loaded at start (the refresh-token key never rotates in a running process). */
  keys: KeyMaterial;
  accessTokens: AccessTokens;
  /** Re-reads the key file now (normally polled every 30 s); false with keys given by the caller. */
  reloadKeys: () => boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    tokens: Tokens;
  }
}

/**
 * Signing keys and access tokens: keys given by the caller (tests), or read from (or created in) the
 * key file, which is then polled for rotations until the app closes.
 */
export const tokensPlugin = fp<{ keys?: KeyMaterial | undefined }>(
  async (app, options) => {
    const { config, clock } = app;
    const keysFile = dataFiles(config).keysFile;
    const keys = options.keys ?? loadOrCreateKeyFile(keysFile, clock.now());
    const accessTokens = createAccessTokens(keys, { issuer: config.jwtIssuer, audience: config.jwtAudience, ttlSeconds: config.accessTokenTtlSeconds }, clock);
    let reloadKeys = () => false;
    if (!options.keys) {
      const reloader = createKeyReloader(keysFile, {
        setKeys: (material) => accessTokens.setKeys(material),
        onReloaded: () => app.log.info('signing keys reloaded'),
        onError: backgroundErrorLogger(app.log),
      });
      reloader.reload();
      reloader.start();
      app.addHook('onClose', async () => reloader.stop());
      reloadKeys = reloader.reload;
    }
    app.decorate('tokens', { keys, accessTokens, reloadKeys });
  },
  { name: 'sessiond-tokens' },
);

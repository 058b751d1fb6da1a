import { describe } from 'node:test';
import { migrateToLatest } from '../../src/database/database.ts';
import { createKyselyEventStore } from '../../src/events/kysely-event-store.ts';
import { createKyselySessionStore } from '../../src/sessions/kysely-session-store.ts';
import { createKyselyUserStore } from '../../src/users/kysely-user-store.ts';
import { backendNames, openBackend } from '../helpers/backends.ts';
import { createKyselyServiceKeyStore } from '../../src/service-keys/kysely-service-key-store.ts';
import { createKyselyPasswordResetStore } from '../../src/password-reset/kysely-password-reset-store.ts';
import { passwordResetStoreContract } from './password-reset-store.contract.ts';
import { serviceKeyStoreContract } from './service-key-store.contract.ts';
import { sessionStoreContract } from './session-store.contract.ts';

for (const backend of backendNames) {
  describe(`storage contract (${backend})`, () => {
    sessionStoreContract(async (t) => {
      const opened = await openBackend(t, backend);
      if (!opened) return undefined;
      await migrateToLatest(opened.handle.db);
      const { db, dialect } = opened.handle;
      return { sessions: createKyselySessionStore(db, { dialect }), users: createKyselyUserStore(db), events: createKyselyEventStore(db, { dialect }), db, dialect };
    });
    serviceKeyStoreContract(async (t) => {
      const opened = await openBackend(t, backend);
      if (!opened) return undefined;
      await migrateToLatest(opened.handle.db);
      return { keys: createKyselyServiceKeyStore(opened.handle.db), db: opened.handle.db };
    });
    passwordResetStoreContract(async (t) => {
      const opened = await openBackend(t, backend);
      if (!opened) return undefined;
      await migrateToLatest(opened.handle.db);
      return { resets: createKyselyPasswordResetStore(opened.handle.db), users: createKyselyUserStore(opened.handle.db) };
    });
  });
}

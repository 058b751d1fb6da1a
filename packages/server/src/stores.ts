import fp from 'fastify-plugin';
import { createKyselyAdminKeyStore, type AdminKeyStore } from './admin/admin-key-store.ts';
import { createKyselyEventStore } from './events/kysely-event-store.ts';
import type { EventStore } from './events/session-event.ts';
import { createKyselyPasswordResetStore } from './password-reset/kysely-password-reset-store.ts';
import type { PasswordResetStore } from './password-reset/password-reset-store.ts';
import { createKyselyServiceKeyStore } from './service-keys/kysely-service-key-store.ts';
import type { ServiceKeyStore } from './service-keys/service-key-store.ts';
import { createKyselySessionStore } from './sessions/kysely-session-store.ts';
import type { SessionStore } from './sessions/session-store.ts';
import { createKyselyUserStore } from './users/kysely-user-store.ts';
import type { UserStore } from './users/user-store.ts';

/** Every store on the one database (each speaks rows inside, domain records outside). */
export interface Stores {
  sessions: SessionStore;
  users: UserStore;
  adminKeys: AdminKeyStore;
  serviceKeys: ServiceKeyStore;
  passwordResets: PasswordResetStore;
  events: EventStore;
}

declare module 'fastify' {
  interface FastifyInstance {
    stores: Stores;
  }
}

/** The stores: plain objects over the database's pool, nothing to start or close. */
export const storesPlugin = fp(
  async (app) => {
    const { db, dialect } = app.database;
    app.decorate('stores', {
      sessions: createKyselySessionStore(db, { dialect }),
      users: createKyselyUserStore(db),
      adminKeys: createKyselyAdminKeyStore(db),
      serviceKeys: createKyselyServiceKeyStore(db),
      passwordResets: createKyselyPasswordResetStore(db),
      events: createKyselyEventStore(db, { dialect }),
    } satisfies Stores);
  },
  { name: 'sessiond-stores', dependencies: ['sessiond-database'] },
);

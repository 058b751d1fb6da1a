import type { Kysely } from 'kysely';

// Frozen (2026-11-29). Sessions bound to a device key (DPoP, RFC 9449): the RFC 7638 thumbprint of
// the key the session was signed in with; null for sessions that are not bound.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('dpop_jkt', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('dpop_jkt').execute();
}

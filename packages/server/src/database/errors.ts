/** Unique-constraint violation, in either dialect's words. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // PostgreSQL: SQLSTATE 23505. better-sqlite3: SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY.
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * True when the error means the database itself is unreachable or overloaded (not a bad query):
 * the error handler answers 503 for these instead of 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'SQLITE_BUSY', 'SQLITE_LOCKED'].includes(code) ||
    code.startsWith('57P') || // admin_shutdown, crash_shutdown, cannot_connect_now
    code.startsWith('08') || // connection exceptions
    code === '53300' || // too_many_connections
    // Fail-fast timeouts (database.ts, postgresTimeouts): a lock wait (lock_not_available), a
    // statement cancelled by statement_timeout (query_canceled), a transaction ended by
    // idle_in_transaction_session_timeout; the client's own query timeout.
    code === '55P03' ||
    code === '57014' ||
    code === '25P03' ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Query read timeout/i.test(message)
  );
}

/**
 * True when the database did not answer in time (database.ts, postgresTimeouts): trying again at
 * once would most likely wait as long again. A failure that came fast (a dropped connection) is
 * worth one retry on a fresh connection; a timeout is not.
 */
export function isDatabaseTimeout(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : '';
  return e?.code === '57014' || e?.code === '55P03' || /Query read timeout|timeout exceeded when trying to connect/.test(message);
}

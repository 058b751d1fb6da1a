/**
 * A session or user id as sessiond writes it (lower-case UUID): the `sid` claim and the ids of the
 * revocation stream must be exactly this, anything else is refused.
 */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

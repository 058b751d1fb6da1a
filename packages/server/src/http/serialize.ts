/** Epoch milliseconds to ISO 8601 UTC, the API's only timestamp format. */
export const iso = (ms: number) => new Date(ms).toISOString();

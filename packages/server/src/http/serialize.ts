/** Recently rendered timestamps: a session's expiry is rendered on every check of it. */
const rendered = new Map<number, string>();
const MAX_RENDERED = 4096;

/** Epoch milliseconds to ISO 8601 UTC, the API's only timestamp format. */
export function iso(ms: number): string {
  let text = rendered.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (rendered.size >= MAX_RENDERED) rendered.clear();
    rendered.set(ms, text);
  }
  return text;
}

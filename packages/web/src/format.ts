import { FetchError, ResponseError, type Device } from './sdk.ts';

/**
 * What the page says, as plain functions of data: no DOM here, so they are tested in Node.
 */

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const exact = new Intl.DateTimeFormat('en', { dateStyle: 'full', timeStyle: 'long' });

const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['week', 7 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
];

/** "just now", "2 minutes ago", "yesterday", "3 weeks ago". A time slightly ahead of our clock (skew) is "just now". */
export function timeAgo(isoTime: string, nowMs: number): string {
  const elapsedMs = nowMs - Date.parse(isoTime);
  if (elapsedMs < 60_000) return 'just now';
  for (const [unit, unitMs] of units) {
    if (elapsedMs >= unitMs) return relative.format(-Math.floor(elapsedMs / unitMs), unit);
  }
  return 'just now';
}

/** The exact time, for the title of a <time>: "Friday, November 27, 2026 at 8:09:29 AM UTC". */
export function exactTime(isoTime: string): string {
  return exact.format(new Date(isoTime));
}

/** "Chrome 131 on Linux", "Safari 17.1 on iOS 17.1", "Firefox 133 on Windows", "curl 8.5.0", "Unknown device". */
export function deviceName(device: Device): string {
  // Crawlers and HTTP libraries are known by their full product token; browsers by their major version.
  const browser = device.browser && device.type !== 'bot' ? shortVersion(device.browser) : device.browser;
  const os = device.os ? windowsName(device.os) : null;
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  if (os) return `Unknown browser on ${os}`;
  return device.type === 'bot' ? 'Automated client' : 'Unknown device';
}

/** User agents name Windows by its kernel ("Windows NT 10.0", also sent by Windows 11): say what people know. */
function windowsName(os: string): string {
  const names: Record<string, string> = { 'NT 10.0': 'Windows', 'NT 6.3': 'Windows 8.1', 'NT 6.2': 'Windows 8', 'NT 6.1': 'Windows 7' };
  const match = /^Windows (NT \d+\.\d+)$/.exec(os);
  return (match && names[match[1]!]) || os;
}

/** Browsers show their major version only ("Chrome 131.0.6778.85" -> "Chrome 131"); Safari keeps its minor ("Safari 17.1"). */
function shortVersion(browser: string): string {
  const match = /^(.*?) (\d+)((?:\.\d+)*)$/.exec(browser);
  if (!match) return browser;
  const [, name, major, rest] = match;
  const minor = name === 'Safari' ? (/^\.\d+/.exec(rest ?? '')?.[0] ?? '') : '';
  return `${name} ${major}${minor}`;
}

/** Names of the sign-in methods the page knows, for "Signed in with …". */
const providerNames: Record<string, string> = {
  'oauth:google': 'Google',
  'oauth:github': 'GitHub',
  'oauth:apple': 'Apple',
  'oauth:microsoft': 'Microsoft',
  'oauth:facebook': 'Facebook',
  'oauth:gitlab': 'GitLab',
  saml: 'single sign-on',
  oidc: 'single sign-on',
  magic_link: 'an email link',
  passkey: 'a passkey',
};

/**
 * How a session's user signed in, as the device list says it after "Signed in": nothing for
 * sessiond's own password sign-in (the usual case), "with Google" for `oauth:google`, a provider's
 * name capitalised for another `oauth:…`, and the method as the application named it otherwise.
 */
export function signInMethod(authMethod: string): string {
  if (authMethod === 'password') return '';
  const known = providerNames[authMethod];
  if (known) return `with ${known}`;
  const oauth = /^oauth:(.+)$/.exec(authMethod);
  if (oauth) return `with ${oauth[1]!.charAt(0).toUpperCase()}${oauth[1]!.slice(1)}`;
  return `with ${authMethod}`;
}

export const deviceTypeLabel: Record<Device['type'], string> = {
  desktop: 'Computer',
  mobile: 'Phone',
  tablet: 'Tablet',
  bot: 'Automated client',
  unknown: 'Unknown kind of device',
};

/** A sentence for the person in front of the page, never JSON or a status code alone. */
export function describeError(error: unknown): string {
  if (error instanceof ResponseError) {
    if (error.status === 400 && error.problem?.errors?.length) return sentence(validationSentence(error.problem.errors));
    if (error.status >= 500) return 'The service had a problem and could not do that. Please try again in a moment.';
    return sentence(error.detail || error.title || `The service refused the request (${error.status}).`);
  }
  if (error instanceof FetchError || error instanceof TypeError) {
    return 'Could not reach the service. Check your connection and try again.';
  }
  return 'Something went wrong. Please try again.';
}

/** "body.email must match format "email"" is for developers; people get the field's name. */
function validationSentence(errors: Array<{ field: string; message: string }>): string {
  const fields = [...new Set(errors.map((e) => e.field.split('.').pop() ?? e.field))];
  const named = fields.map((f) => (f === 'email' ? 'the email address' : f === 'password' ? 'the password' : f === 'name' ? 'the name' : `"${f}"`));
  return `Please check ${named.join(' and ')}`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/**
 * The warning on a device whose refresh token someone tried to use without the device's key (the
 * session's unboundUseCount): the key kept them out, but a copy of the token exists somewhere.
 * The time follows (a <time> element, in words).
 */
export function unboundUseWarning(count: number): string {
  const times = count === 1 ? '' : ` (${plural(count, 'time')})`;
  return `Someone tried to use this session's refresh token without its key${times}; the key kept them out. If that was not you, this device may have malware: sign it out and change your password. Latest attempt:`;
}

/** "1 other device", "3 other devices". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** The service's reason for a session end (GET /sessions/events), as a sentence for the sign-in page. */
export function describeEndReason(reason: string): string {
  const sentences: Record<string, string> = {
    user_revoked: 'It was signed out from another device.',
    user_revoked_all: 'Every device was signed out from another device.',
    user_logout: 'It was signed out.',
    admin: 'An administrator ended it.',
    session_limit: 'Too many devices signed in: the least recently used one was signed out.',
    refresh_token_reused: 'For your security: its sign-in was used from two places at once.',
    idle_timeout: 'It expired after a period without use.',
    absolute_timeout: 'It reached its maximum lifetime.',
    account_deleted: 'The account was deleted.',
  };
  return sentences[reason] ?? 'It was ended.';
}

import Bowser from 'bowser';

export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown';

export interface Device {
  /** e.g. "Chrome 120.0"; null when unknown. */
  browser: string | null;
  /** e.g. "macOS 10.15.7"; null when unknown. */
  os: string | null;
  type: DeviceType;
}

// Bowser recognises browsers, not crawlers and HTTP libraries: those are named here.
const BOT = /bot|crawler|spider|crawling|slurp|curl\/|wget\/|python-requests|httpclient|okhttp|go-http-client|node-fetch|undici|axios\//i;

const memo = new Map<string, Device>();
const MEMO_LIMIT = 1000;

function join(name: string | undefined, version: string | undefined): string | null {
  if (!name) return null;
  return version ? `${name} ${version}` : name;
}

/** Parses a User-Agent header into display fields. Memoised: the same few strings recur. */
export function parseDevice(userAgent: string | null): Device {
  if (!userAgent) return { browser: null, os: null, type: 'unknown' };
  const hit = memo.get(userAgent);
  if (hit) return hit;
  let device: Device;
  try {
    const parsed = Bowser.parse(userAgent);
    const platform = parsed.platform.type;
    const isBot = BOT.test(userAgent) || platform === 'bot';
    // For HTTP libraries and crawlers Bowser knows no browser: show the product token instead
    // ("curl/8.5.0" -> "curl 8.5.0"), which is what a person would recognise in the list.
    const product = isBot ? /^([A-Za-z][\w.-]*)\/([\w.]+)/.exec(userAgent) : null;
    device = {
      browser: join(parsed.browser.name, parsed.browser.version) ?? (product ? `${product[1]} ${product[2]}` : null),
      os: join(parsed.os.name, parsed.os.version),
      type: isBot ? 'bot' : platform === 'desktop' || platform === 'mobile' || platform === 'tablet' ? platform : 'unknown',
    };
  } catch {
    device = { browser: null, os: null, type: 'unknown' };
  }
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(userAgent, device);
  return device;
}

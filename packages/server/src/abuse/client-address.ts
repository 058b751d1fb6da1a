import ipaddr from 'ipaddr.js';

/**
 * The rate-limit key of a client address. Keyed on the text, one client would get a fresh budget
 * per spelling (`::ffff:198.51.100.7` and `198.51.100.7`, `2001:DB8::1` and `2001:db8:0:0::1`) and,
 * on IPv6, per address: a single host is routinely given a whole /64, i.e. 2^64 addresses. So the
 * address is parsed (ipaddr.js, the parser Fastify's proxy-addr already uses), an IPv4-mapped IPv6
 * address becomes its IPv4 address, and an IPv6 address is cut to its first `ipv6PrefixLength`
 * bits, written in one canonical form (RFC 5952) with the prefix length.
 * Text that is not an address (no socket, a proxy's odd header) is its own key, lower-cased.
 */
export function addressKey(address: string | null | undefined, ipv6PrefixLength: number): string {
  if (!address) return 'unknown';
  if (!ipaddr.isValid(address)) return address.toLowerCase();
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const bytes = parsed.toByteArray();
  for (let bit = ipv6PrefixLength; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return `${(ipaddr.fromByteArray(bytes) as ipaddr.IPv6).toRFC5952String()}/${ipv6PrefixLength}`;
}

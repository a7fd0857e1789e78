/** IPv4 and IPv6 addresses and CIDR blocks for IpAddress / NotIpAddress, without regexes on input. */

/** A CIDR block: the family's bit width, the network prefix length and the address as a bigint. */
export interface Cidr {
  bits: 32 | 128;
  prefix: number;
  address: bigint;
}

function parseIpv4(text: string): bigint | undefined {
  const octets = text.split('.');
  if (octets.length !== 4) return undefined;
  let value = 0n;
  for (const o of octets) {
    if (!/^\d{1,3}$/.test(o)) return undefined;
    const n = Number(o);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): bigint[] | undefined => {
    if (s === '') return [];
    const out: bigint[] = [];
    const pieces = s.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      // An embedded IPv4 address may end the address (::ffff:192.0.2.1).
      if (i === pieces.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(BigInt(`0x${p}`));
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<bigint>(missing).fill(0n), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses `192.0.2.0/24`, `2001:db8::/32` or a bare address (a /32 or /128 block). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const v4 = parseIpv4(addr);
  const bits: 32 | 128 = v4 !== undefined ? 32 : 128;
  const address = v4 ?? parseIpv6(addr);
  if (address === undefined) return undefined;
  let prefix = bits as number;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > bits) return undefined;
  }
  return { bits, prefix, address };
}

/** True when `ip` (an address, or a CIDR treated as its address) lies inside `block`. */
export function cidrContains(block: Cidr, ip: Cidr): boolean {
  if (block.bits !== ip.bits) return false;
  const shift = BigInt(block.bits - block.prefix);
  return block.address >> shift === ip.address >> shift;
}

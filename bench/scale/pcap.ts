// The capture side of the keepalive-gap figure: packet timestamps out of a classic pcap file (the
// format tcpdump -w writes: a 24-octet global header, then per packet a 16-octet record header
// ts_sec, ts_usec|ts_nsec, incl_len, orig_len, then incl_len octets). Pure; no packet decoding: the
// capture filter already kept only the segments that carry BGP octets from the speaker.
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

/** Packet timestamps in seconds (float), in file order. Throws on a file that is not pcap. */
export function pcapTimestamps(buf: Buffer): number[] {
  if (buf.length < GLOBAL_HEADER) throw new Error(`pcap: ${buf.length} octets, shorter than the global header`);
  const magicLE = buf.readUInt32LE(0);
  const magicBE = buf.readUInt32BE(0);
  const le = magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS;
  if (!le && magicBE !== PCAP_MAGIC_US && magicBE !== PCAP_MAGIC_NS) throw new Error(`pcap: bad magic 0x${magicLE.toString(16)}`);
  const magic = le ? magicLE : magicBE;
  const fraction = magic === PCAP_MAGIC_NS ? 1e9 : 1e6;
  const u32 = (off: number): number => (le ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
  const out: number[] = [];
  // A capture stopped mid-record ends with a partial record: ignored.
  for (let off = GLOBAL_HEADER; off + RECORD_HEADER <= buf.length; ) {
    const incl = u32(off + 8);
    if (off + RECORD_HEADER + incl > buf.length) break;
    out.push(u32(off) + u32(off + 4) / fraction);
    off += RECORD_HEADER + incl;
  }
  return out;
}

/** The largest gap between consecutive timestamps inside [from, to] (seconds), the window's ends
 * counting as events: a silent window is one gap as long as the window. */
export function largestGap(timestamps: readonly number[], from: number, to: number): { readonly seconds: number; readonly at: number } {
  let prev = from;
  let worst = { seconds: 0, at: from };
  for (const t of [...timestamps.filter((x) => x >= from && x <= to), to]) {
    if (t - prev > worst.seconds) worst = { seconds: t - prev, at: prev };
    prev = t;
  }
  return worst;
}

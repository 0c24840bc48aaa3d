// The obvious bit-at-a-time CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the
// reference for the native table and SSE4.2 implementations.
export function crc32cReference (data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0
  for (const byte of data) {
    c ^= byte
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1
  }
  return ~c >>> 0
}

/** TFRecord's mask: rotate right 15, add 0xa282ead8, written out with BigInt arithmetic. */
export function maskReference (crc: number): number {
  const c = BigInt(crc)
  const rotated = ((c >> 15n) | (c << 17n)) & 0xFFFFFFFFn
  return Number((rotated + 0xa282ead8n) & 0xFFFFFFFFn)
}

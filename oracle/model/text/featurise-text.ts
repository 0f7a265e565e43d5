/**
 * The text featuriser of the spam demo model, for training and for clients alike: a message
 * becomes a fixed-size float vector any client can recompute bit for bit.
 *
 * - Tokens: the text lower-cased (`String.prototype.toLowerCase`, locale-independent), split
 *   into maximal runs of Unicode letters and digits; tokens of 2 to 24 characters are kept.
 * - Hashing: 32-bit FNV-1a over the token's UTF-8 bytes; bucket = hash mod `buckets`.
 * - Value of a bucket: `log(1 + count)`, the count being how many tokens fell into it.
 */

export const defaultBuckets = 512;
const minTokenLength = 2;
const maxTokenLength = 24;

export function tokenise(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const token = match[0];
    const length = [...token].length;
    if (length >= minTokenLength && length <= maxTokenLength) tokens.push(token);
  }
  return tokens;
}

/** 32-bit FNV-1a of the UTF-8 bytes, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** `buckets` floats: log(1 + number of tokens hashed into each bucket). */
export function featuriseText(text: string, buckets = defaultBuckets): number[] {
  if (!Number.isInteger(buckets) || buckets < 1)
    throw new RangeError(`buckets must be a positive integer, got ${buckets}.`);
  const counts = new Array<number>(buckets).fill(0);
  for (const token of tokenise(text)) counts[fnv1a32(token) % buckets]!++;
  return counts.map((count) => Math.log1p(count));
}

/**
 * The body of an RFC 822 mail message: what follows the first empty line (the whole text when
 * there is none). The spam model reads bodies, not headers, so a client featurises the body.
 */
export function messageBody(raw: string): string {
  const match = /\r?\n\r?\n/.exec(raw);
  return match ? raw.slice(match.index + match[0].length) : raw;
}

/**
 * Base64 without Node's `Buffer`, so the core runs on edge runtimes: the one encoder and decoder
 * the toolkit uses (image data, data URLs, providers' `b64_json`).
 */

/** Bytes → base64, in chunks small enough for `String.fromCharCode`'s argument limit. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return btoa(binary);
}

/** Base64 → bytes; throws (`atob`'s `InvalidCharacterError`) on text that is not base64. */
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

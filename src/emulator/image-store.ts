export type StoredImage = { bytes: Buffer; mediaType: string };

/**
 * Images behind `url` responses, least recently used evicted first once over `maxBytes`, so memory
 * stays flat in long runs.
 */
export class ImageStore {
  readonly #images = new Map<string, StoredImage>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  put(name: string, image: StoredImage): void {
    this.#images.set(name, image);
    this.#bytes += image.bytes.length;
    for (const [oldest, stored] of this.#images) {
      if (this.#bytes <= this.maxBytes || oldest === name) break;
      this.#images.delete(oldest);
      this.#bytes -= stored.bytes.length;
    }
  }

  get(name: string): StoredImage | undefined {
    const image = this.#images.get(name);
    if (image) {
      // Re-insert to mark it most recently used (a Map iterates in insertion order).
      this.#images.delete(name);
      this.#images.set(name, image);
    }
    return image;
  }
}

/**
 * Text from a provider made safe to print: what a server sends (model ids and names, error
 * messages) reaches terminals, logs and MCP clients, where control characters can clear the
 * screen, set the window title or hide text (`ESC [2J`, OSC `ESC ]0;…`, the C1 CSI `U+009B`).
 * Edge-safe: no Node modules.
 */

/** C0 controls, DEL, C1 controls, and the bidirectional overrides that reorder what a reader sees. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** The longest provider message printed whole; longer ones are cut, saying by how much. */
export const MAX_PROVIDER_TEXT = 500;

/**
 * `text` on one line without control characters (each run becomes one space), and at most
 * `maxLength` characters: a longer one is cut with `… (N more characters)`.
 */
export function plainText(text: string, maxLength = MAX_PROVIDER_TEXT): string {
  // Cut before cleaning, so a 50 MB message costs no more than a short one.
  const head = text.length > maxLength * 2 ? text.slice(0, maxLength * 2) : text;
  const clean = head.replace(UNSAFE, ' ').replace(/ {2,}/g, ' ').trim();
  if (head === text && clean.length <= maxLength) return clean;
  const shown = clean.slice(0, maxLength);
  return `${shown}… (${text.length - shown.length} more characters)`;
}

/** Everything `plainText` removes but line breaks and tabs, which multi-line messages use. */
const UNSAFE_IN_MESSAGES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with its lines kept but no other control character: every toolkit error message is this. */
export function printableLines(text: string): string {
  return text.replace(UNSAFE_IN_MESSAGES, ' ');
}

/** Whether `text` holds a character `plainText` would remove. */
export function hasControlCharacters(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

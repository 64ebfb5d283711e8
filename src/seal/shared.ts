/**
 * Shared memory at the native boundary. Rust reads an argument assuming no
 * other thread writes it during the call; a view over a `SharedArrayBuffer`
 * that a worker writes breaks that (a box's timestamp or ciphertext could
 * change between being authenticated and being used). The in-place seal and
 * open paths therefore take a private copy of any shared input (issue 13,
 * finding 10); other views pass through untouched, at no cost.
 */
export function unshared(view: Uint8Array): Uint8Array {
  return typeof SharedArrayBuffer !== 'undefined' && view.buffer instanceof SharedArrayBuffer ? new Uint8Array(view) : view;
}

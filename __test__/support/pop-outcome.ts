/** What a PoP check came to: 'ok', or the `PopError` code it refused with (anything else is rethrown). */
import { PopError } from '../../src/index';

export async function popOutcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof PopError) return error.code;
    throw error;
  }
}

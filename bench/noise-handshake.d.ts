/** The parts of noise-handshake (untyped on npm) the benchmark uses. */
declare module 'noise-handshake' {
  interface KeyPair {
    publicKey: Uint8Array;
    secretKey: Uint8Array;
  }
  export default class Noise {
    constructor(pattern: string, initiator: boolean, staticKeypair?: KeyPair);
    initialise(prologue: Uint8Array, remoteStatic?: Uint8Array): void;
    send(payload?: Uint8Array): Uint8Array;
    recv(message: Uint8Array): Uint8Array;
    readonly hash: Uint8Array;
    readonly complete: boolean;
  }
}
declare module 'noise-handshake/dh' {
  export function generateKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array };
}

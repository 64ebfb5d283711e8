/**
 * In-memory stores for @signalapp/libsignal-client, the simplest a server or
 * client could use, so the benchmark measures the library and not storage.
 */
import * as signal from '@signalapp/libsignal-client';

export class Party {
  readonly identity = signal.IdentityKeyPair.generate();
  readonly registrationId = 1 + Math.floor(Math.random() * 16000);
  readonly address: signal.ProtocolAddress;
  readonly sessions = new Sessions();
  readonly identities: Identities;
  readonly preKeys = new Map<number, signal.PreKeyRecord>();
  readonly signedPreKeys = new Map<number, signal.SignedPreKeyRecord>();
  readonly kyberPreKeys = new Map<number, signal.KyberPreKeyRecord>();
  readonly preKeyStore: signal.PreKeyStore;
  readonly signedPreKeyStore: signal.SignedPreKeyStore;
  readonly kyberPreKeyStore: signal.KyberPreKeyStore;
  private nextId = 1;

  constructor(name: string) {
    this.address = signal.ProtocolAddress.new(name, 1);
    this.identities = new Identities(this.identity, this.registrationId);
    const { preKeys, signedPreKeys, kyberPreKeys } = this;
    this.preKeyStore = new (class extends signal.PreKeyStore {
      async savePreKey(id: number, r: signal.PreKeyRecord) {
        preKeys.set(id, r);
      }
      async getPreKey(id: number) {
        const r = preKeys.get(id);
        if (!r) throw new Error('no prekey');
        return r;
      }
      async removePreKey(id: number) {
        preKeys.delete(id);
      }
    })();
    this.signedPreKeyStore = new (class extends signal.SignedPreKeyStore {
      async saveSignedPreKey(id: number, r: signal.SignedPreKeyRecord) {
        signedPreKeys.set(id, r);
      }
      async getSignedPreKey(id: number) {
        const r = signedPreKeys.get(id);
        if (!r) throw new Error('no signed prekey');
        return r;
      }
    })();
    this.kyberPreKeyStore = new (class extends signal.KyberPreKeyStore {
      async saveKyberPreKey(id: number, r: signal.KyberPreKeyRecord) {
        kyberPreKeys.set(id, r);
      }
      async getKyberPreKey(id: number) {
        const r = kyberPreKeys.get(id);
        if (!r) throw new Error('no kyber prekey');
        return r;
      }
      async markKyberPreKeyUsed() {}
    })();
    const signed = signal.PrivateKey.generate();
    const signature = this.identity.privateKey.sign(signed.getPublicKey().serialize());
    this.signedPreKeys.set(1, signal.SignedPreKeyRecord.new(1, Date.now(), signed.getPublicKey(), signed, signature));
    const kyber = signal.KEMKeyPair.generate();
    const kyberSignature = this.identity.privateKey.sign(kyber.getPublicKey().serialize());
    this.kyberPreKeys.set(1, signal.KyberPreKeyRecord.new(1, Date.now(), kyber, kyberSignature));
  }

  /** A bundle with a fresh one-time prekey, as a server would hand out. */
  bundle(): signal.PreKeyBundle {
    const id = this.nextId++;
    const pre = signal.PrivateKey.generate();
    this.preKeys.set(id, signal.PreKeyRecord.new(id, pre.getPublicKey(), pre));
    const signed = this.signedPreKeys.get(1)!;
    const kyber = this.kyberPreKeys.get(1)!;
    return signal.PreKeyBundle.new(
      this.registrationId,
      1,
      id,
      pre.getPublicKey(),
      1,
      signed.publicKey(),
      signed.signature(),
      this.identity.publicKey,
      1,
      kyber.publicKey(),
      kyber.signature(),
    );
  }
}

class Sessions extends signal.SessionStore {
  private readonly map = new Map<string, signal.SessionRecord>();
  clear() {
    this.map.clear();
  }
  async saveSession(a: signal.ProtocolAddress, r: signal.SessionRecord) {
    this.map.set(a.toString(), r);
  }
  async getSession(a: signal.ProtocolAddress) {
    return this.map.get(a.toString()) ?? null;
  }
  async getExistingSessions(as: signal.ProtocolAddress[]) {
    return as.map((a) => this.map.get(a.toString())!).filter(Boolean);
  }
}

class Identities extends signal.IdentityKeyStore {
  constructor(
    private readonly pair: signal.IdentityKeyPair,
    private readonly id: number,
  ) {
    super();
  }
  async getIdentityKey() {
    return this.pair.privateKey;
  }
  async getLocalRegistrationId() {
    return this.id;
  }
  async saveIdentity() {
    return signal.IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity() {
    return true;
  }
  async getIdentity() {
    return null;
  }
}

/** Alice encrypts to Bob through libsignal's session API. */
export async function encrypt(from: Party, to: Party, plaintext: Uint8Array<ArrayBuffer>): Promise<signal.CiphertextMessage> {
  return signal.signalEncrypt(plaintext, to.address, from.address, from.sessions, from.identities);
}

export async function decrypt(at: Party, from: Party, message: signal.CiphertextMessage): Promise<Uint8Array> {
  const bytes = message.serialize();
  if (message.type() === signal.CiphertextMessageType.PreKey) {
    return signal.signalDecryptPreKey(
      signal.PreKeySignalMessage.deserialize(bytes),
      from.address,
      at.address,
      at.sessions,
      at.identities,
      at.preKeyStore,
      at.signedPreKeyStore,
      at.kyberPreKeyStore,
    );
  }
  return signal.signalDecrypt(signal.SignalMessage.deserialize(bytes), from.address, at.address, at.sessions, at.identities);
}

/**
 * Opt-in persistence of a logged-in session in IndexedDB, so that a reload
 * does not log the user out. What is stored is the non-extractable
 * `CryptoKey` itself (IndexedDB keeps it by structured clone, still
 * non-extractable), the bearer token, the username and the expiry: never the
 * key's bytes, which script cannot read.
 */

/** A session as it is kept between page loads. */
export interface StoredSession {
  key: CryptoKey;
  bearer: string;
  username: string;
  expiresAt: number;
}

const STORE = 'sessions';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function open(database: string): Promise<IDBDatabase> {
  const req = indexedDB.open(database, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE);
  return request(req);
}

/** One IndexedDB record per auth server, named by its URL. */
export class SessionStore {
  constructor(
    private readonly database: string,
    private readonly id: string,
  ) {}

  private async run<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await open(this.database);
    try {
      return await request(op(db.transaction(STORE, mode).objectStore(STORE)));
    } finally {
      db.close();
    }
  }

  load(): Promise<StoredSession | undefined> {
    return this.run('readonly', (s) => s.get(this.id) as IDBRequest<StoredSession | undefined>);
  }

  async save(session: StoredSession): Promise<void> {
    await this.run('readwrite', (s) => s.put(session, this.id));
  }

  async remove(): Promise<void> {
    await this.run('readwrite', (s) => s.delete(this.id));
  }
}

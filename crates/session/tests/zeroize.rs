//! Proof that ratchet chain keys and stored message keys are wiped: a global
//! allocator that, while armed, searches every freed heap block for the
//! secrets the session held. Dropping the sessions (what `dispose()` does)
//! and every serialize/deserialize round trip must free none of them intact.
//! The control test shows the detector does catch an unwiped key.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{bundle_pair, noise_pair, KEY};
use keyward_session::Session;

const SLOTS: usize = 512;

struct Watch {
    keys: [[u8; 32]; SLOTS],
    len: usize,
}

static WATCH: Mutex<Watch> = Mutex::new(Watch {
    keys: [[0; 32]; SLOTS],
    len: 0,
});
static ARMED: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);
/// Tests share the allocator: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Checking;

fn scan(block: &[u8]) {
    let Ok(watch) = WATCH.try_lock() else { return };
    for key in &watch.keys[..watch.len] {
        if block.windows(32).any(|w| w == key) {
            FOUND.fetch_add(1, Ordering::SeqCst);
        }
    }
}

unsafe impl GlobalAlloc for Checking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) && layout.size() >= 32 {
            scan(unsafe { std::slice::from_raw_parts(ptr, layout.size()) });
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Checking = Checking;

/// Copies the keys into static memory and wipes the heap copy they came in.
fn watch(mut keys: Vec<[u8; 32]>) -> usize {
    let mut w = WATCH.lock().unwrap();
    w.len = 0;
    for k in &keys {
        let i = w.len;
        w.keys[i] = *k;
        w.len += 1;
    }
    let n = w.len;
    drop(w);
    for k in &mut keys {
        zeroize::Zeroize::zeroize(k);
    }
    n
}

fn armed<T>(f: impl FnOnce() -> T) -> (T, usize) {
    FOUND.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    let out = f();
    ARMED.store(false, Ordering::SeqCst);
    (out, FOUND.load(Ordering::SeqCst))
}

fn busy_pair() -> (Session, Session) {
    let (mut a, mut b) = bundle_pair(true);
    // Skipped keys in two chains, both chains stepped.
    let early: Vec<_> = (0..6).map(|i| a.encrypt(&[i], b"").unwrap()).collect();
    b.decrypt(&early[5], b"").unwrap();
    let r = b.encrypt(b"r", b"").unwrap();
    a.decrypt(&r, b"").unwrap();
    let late: Vec<_> = (0..4).map(|i| a.encrypt(&[i], b"").unwrap()).collect();
    b.decrypt(&late[3], b"").unwrap();
    (a, b)
}

#[test]
fn dropping_a_session_frees_no_chain_or_message_key() {
    let _serial = SERIAL.lock().unwrap();
    let (a, b) = busy_pair();
    let secrets = b.secrets_for_testing();
    assert!(secrets.len() >= 10, "root, two chains and skipped keys");
    let watched = watch(secrets);
    let (_, found) = armed(|| {
        let record = b.serialize(&KEY).unwrap();
        let restored = Session::deserialize(&record, &KEY).unwrap();
        drop(restored);
        drop(b);
        drop(a);
    });
    assert!(watched >= 10);
    assert_eq!(found, 0, "a freed block still held a ratchet key");
}

#[test]
fn dropping_a_prekey_set_frees_no_prekey() {
    let _serial = SERIAL.lock().unwrap();
    let bob = keyward_session::IdentityKey::generate().unwrap();
    let mut set = keyward_session::PreKeySet::generate(&bob, 60, true).unwrap();
    set.rotate(&bob).unwrap();
    set.add_one_time(40).unwrap();
    set.add_one_time_kem(40).unwrap();
    // The 80 one-time ML-KEM seed halves come last: watch some of each kind,
    // copying into a buffer that never grows and wiping the other (a freed
    // copy reused while armed would be found).
    let mut all = set.secrets_for_testing();
    let (x25519, kem) = all.split_at(all.len() - 80);
    let mut secrets = Vec::with_capacity(SLOTS);
    secrets.extend_from_slice(&x25519[..x25519.len().min(SLOTS / 2)]);
    secrets.extend_from_slice(&kem[..kem.len().min(SLOTS / 2)]);
    for k in &mut all {
        zeroize::Zeroize::zeroize(k);
    }
    let watched = watch(secrets);
    let (_, found) = armed(|| {
        set.add_one_time(30).unwrap();
        set.add_one_time_kem(30).unwrap();
        set.upload(&bob).unwrap();
        let record = set.serialize(&KEY).unwrap();
        drop(keyward_session::PreKeySet::deserialize(&record, &KEY).unwrap());
        drop(set);
    });
    assert!(watched >= 100);
    assert_eq!(
        found, 0,
        "a freed block still held a prekey or one-time ML-KEM seed"
    );
}

/// Issue 13, finding 7: decrypted plaintext used to leave its `Zeroizing`
/// wrapper on the way out, so a caller that dropped it freed it intact.
#[test]
fn decrypted_plaintext_is_wiped_when_dropped() {
    let _serial = SERIAL.lock().unwrap();
    let (mut a, mut b) = noise_pair();
    let secret: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5c);
    let to_b = a.encrypt(&secret, b"").unwrap();
    let to_a = b.encrypt(&secret, b"").unwrap();
    let early = a.encrypt(&secret, b"").unwrap();
    let late = a.encrypt(&secret, b"").unwrap();
    // An offline start: its first message is decrypted by `accept`.
    let bob = keyward_session::IdentityKey::generate().unwrap();
    let mut set = keyward_session::PreKeySet::generate(&bob, 1, false).unwrap();
    let alice = keyward_session::IdentityKey::generate().unwrap();
    let mut offline = Session::from_bundle(&alice, &set.bundle(), None).unwrap();
    let first = offline.encrypt(&secret, b"").unwrap();
    watch(vec![secret]);
    let (_, found) = armed(|| {
        drop(b.decrypt(&to_b, b"").unwrap());
        drop(a.decrypt(&to_a, b"").unwrap());
        // Out of order: one from a stored (skipped) message key.
        drop(b.decrypt(&late, b"").unwrap());
        drop(b.decrypt(&early, b"").unwrap());
        drop(
            Session::accept(&bob, &mut set, &first, b"", None)
                .unwrap()
                .1,
        );
    });
    assert_eq!(found, 0, "a freed block still held decrypted plaintext");
}

#[test]
fn control_the_detector_sees_an_unwiped_key() {
    let _serial = SERIAL.lock().unwrap();
    let (_, b) = busy_pair();
    let secrets = b.secrets_for_testing();
    let leaked: Vec<u8> = secrets[0].to_vec();
    watch(secrets);
    let (_, found) = armed(|| drop(std::hint::black_box(leaked)));
    assert_eq!(found, 1);
}

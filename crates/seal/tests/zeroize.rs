//! Proof that sealed boxes, streams and MACs leave no plaintext behind in
//! freed heap memory: a global allocator that, while armed, searches every
//! freed block for a 32-byte secret pattern (the plaintext repeats it, so
//! any copy of 63 bytes or more contains it at some offset). Results handed
//! to the caller are dropped while armed too: they must be wiped on drop.
//! The control test shows the detector catches an unwiped copy. The AEAD
//! key inside AWS-LC's context is checked the same way in
//! crates/aws-lc/tests/zeroize.rs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use keyward_seal::stream::{StreamOpener, StreamSealer, MIN_CHUNK};
use keyward_seal::{boxes, mac, SecretKey};
use rand_core::OsRng;

const NEEDLE: [u8; 32] = [
    0xc7, 0x1e, 0x5a, 0x93, 0x2d, 0xf0, 0x68, 0xb4, 0x0e, 0x7b, 0xa1, 0x36, 0xd5, 0x49, 0x8c, 0x12,
    0xe9, 0x57, 0x3f, 0xa6, 0x0b, 0x84, 0xdc, 0x21, 0x6e, 0xf3, 0x95, 0x4a, 0xb7, 0x18, 0x60, 0xcd,
];

static ARMED: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

struct Checking;

unsafe impl GlobalAlloc for Checking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) && layout.size() >= 32 {
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(32).any(|w| w == NEEDLE) {
                FOUND.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Checking = Checking;

/// Tests share the allocator: each holds this for its whole run (declared
/// first, it is dropped last, after the test's own copies of the secret).
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Blocks freed by `f` that still held the secret.
fn leftovers(f: impl FnOnce()) -> usize {
    FOUND.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    f();
    ARMED.store(false, Ordering::SeqCst);
    FOUND.load(Ordering::SeqCst)
}

/// `len` bytes of the secret pattern, kept alive by the test until after the
/// check (its own drop is not counted).
fn secret(len: usize) -> Vec<u8> {
    NEEDLE.iter().copied().cycle().take(len).collect()
}

#[test]
fn sealed_boxes_leave_no_plaintext() {
    let _serial = one_at_a_time();
    let key = SecretKey::generate(&mut OsRng);
    // Below 4096 bytes ring seals in place; from 4096 on AWS-LC out of place.
    let (small, large) = (secret(200), secret(3 * 4096));
    let found = leftovers(|| {
        for plaintext in [&small, &large] {
            let sealed = boxes::seal(&key, plaintext, b"aad", 1, &mut OsRng).unwrap();
            let opened = boxes::open(&key, &sealed, b"aad", None, 2).unwrap();
            assert_eq!(opened.plaintext.as_slice(), plaintext.as_slice());
            drop(opened);
            assert!(boxes::open(&key, &sealed, b"other", None, 2).is_err());
        }
    });
    assert_eq!(found, 0, "a freed block still held box plaintext");
    drop((small, large));
}

#[test]
fn streams_leave_no_plaintext() {
    let _serial = one_at_a_time();
    let key = SecretKey::generate(&mut OsRng);
    let data = secret(3 * MIN_CHUNK + 700);
    let found = leftovers(|| {
        let mut sealer = StreamSealer::new(&key, b"aad", MIN_CHUNK, &mut OsRng).unwrap();
        let mut sealed = Vec::new();
        for piece in data.chunks(900) {
            sealed.extend(sealer.push(piece).unwrap());
        }
        sealed.extend(sealer.finish().unwrap());
        let mut opener = StreamOpener::new(&key, b"aad");
        let mut opened = 0;
        for piece in sealed.chunks(1500) {
            opened += opener.push(piece).unwrap().len();
        }
        opened += opener.finish().unwrap().len();
        assert_eq!(opened, data.len());
        // A tampered stream fails mid-way, with a chunk open in its buffer.
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let mut opener = StreamOpener::new(&key, b"aad");
        let pushed = opener.push(&bad).map(|p| p.len());
        assert!(pushed.is_ok() && opener.finish().is_err());
        drop(opener);
        drop(sealer);
    });
    assert_eq!(found, 0, "a freed block still held stream plaintext");
    drop(data);
}

#[test]
fn macs_leave_no_message() {
    let _serial = one_at_a_time();
    let key = SecretKey::generate(&mut OsRng);
    let message = secret(256);
    let found = leftovers(|| {
        let tag = mac::mac(&key, &[b"id", &message], b"aad");
        assert!(mac::verify_mac(&key, &[b"id", &message], b"aad", &tag).is_ok());
        assert!(mac::verify_mac(&key, &[&message], b"aad", &tag).is_err());
    });
    assert_eq!(found, 0, "a freed block still held the MAC's message");
    drop(message);
}

#[test]
fn control_the_detector_sees_an_unwiped_copy() {
    let _serial = one_at_a_time();
    let found = leftovers(|| drop(std::hint::black_box(secret(64))));
    assert_eq!(found, 1);
}

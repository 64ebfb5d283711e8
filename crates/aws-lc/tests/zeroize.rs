//! Proof that the AEAD context's key is wiped: a global allocator that,
//! while armed, searches every freed heap block for the key. The context
//! lives in one heap block (it is never moved, see `aead.rs`), so a key left
//! in it after `EVP_AEAD_CTX_cleanup` shows here. The control test shows the
//! detector catches an unwiped key.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use keyward_aws_lc::aead;

const KEY: [u8; 32] = [
    0x3a, 0x91, 0x5c, 0x07, 0xe2, 0x44, 0xb8, 0x1f, 0x6d, 0xc3, 0x29, 0x80, 0x5e, 0xf7, 0x12, 0xaa,
    0x47, 0x0b, 0xd9, 0x63, 0x3e, 0x85, 0xc1, 0x2a, 0x9f, 0x54, 0x76, 0xe8, 0x0d, 0xb2, 0x31, 0x6c,
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
            if block.windows(32).any(|w| w == KEY) {
                FOUND.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Checking = Checking;

fn freed_with_key(f: impl FnOnce()) -> usize {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    FOUND.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    f();
    ARMED.store(false, Ordering::SeqCst);
    FOUND.load(Ordering::SeqCst)
}

#[test]
fn sealing_and_opening_free_no_copy_of_the_key() {
    let nonce = [9u8; aead::NONCE_LEN];
    let plaintext = vec![0x42u8; 8192];
    let mut sealed = vec![0u8; plaintext.len() + aead::TAG_LEN];
    let mut opened = vec![0u8; plaintext.len()];
    let found = freed_with_key(|| {
        aead::seal(&KEY, &nonce, b"aad", &plaintext, &mut sealed).unwrap();
        aead::open(&KEY, &nonce, b"aad", &sealed, &mut opened).unwrap();
        // A failed open frees its context too.
        assert!(aead::open(&KEY, &nonce, b"other", &sealed, &mut opened).is_none());
    });
    assert_eq!(found, 0, "a freed context still held the key");
}

#[test]
fn control_the_detector_sees_an_unwiped_key() {
    let found = freed_with_key(|| drop(std::hint::black_box(KEY.to_vec())));
    assert_eq!(found, 1);
}

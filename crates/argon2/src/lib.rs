//! Argon2id with reusable working memory, shared by the OPAQUE KSF and
//! password hashing.
//!
//! A fresh 64 MiB allocation costs about a third of an Argon2id run in page
//! faults; keeping a few wiped buffers for the common sizes avoids that.
//! Buffers are zeroized before they return to the pool, so no password-derived
//! block outlives its call, and large ones (the 2 GiB preset) are not kept.

#![forbid(unsafe_code)]

use std::sync::Mutex;

use argon2::{Argon2, Block};
use rayon::prelude::*;
use zeroize::Zeroize;

/// Buffers larger than this are freed after use, not pooled.
const MAX_POOLED_BLOCKS: usize = 128 * 1024; // 128 MiB
/// At most this many buffers wait in the pool.
const MAX_POOLED: usize = 4;

static POOL: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Working memory of exactly `blocks` blocks, wiped and returned on drop.
pub struct Memory(Vec<Block>);

impl Memory {
    /// `None` when the allocation fails: a too-large request must not abort the process.
    pub fn take(blocks: usize) -> Option<Memory> {
        let reused = POOL.lock().ok().and_then(|mut pool| {
            let i = pool.iter().position(|b| b.len() == blocks)?;
            Some(pool.swap_remove(i))
        });
        if let Some(buffer) = reused {
            return Some(Memory(buffer));
        }
        let mut buffer = Vec::new();
        buffer.try_reserve_exact(blocks).ok()?;
        buffer.resize(blocks, Block::default());
        Some(Memory(buffer))
    }

    pub fn blocks(&mut self) -> &mut [Block] {
        &mut self.0
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        let mut buffer = std::mem::take(&mut self.0);
        // Wiped on the pool that ran the lanes, in parallel, off the caller's thread.
        buffer
            .par_chunks_mut(1024)
            .for_each(|chunk| chunk.iter_mut().for_each(Zeroize::zeroize));
        if buffer.len() > MAX_POOLED_BLOCKS {
            return;
        }
        if let Ok(mut pool) = POOL.lock() {
            if pool.len() < MAX_POOLED {
                pool.push(buffer);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The working memory could not be allocated.
    OutOfMemory,
    /// Argon2 refused its inputs (lengths out of range).
    Argon2(argon2::Error),
}

/// Runs `argon` over `password` and `salt` into `out`, on pooled memory.
pub fn hash_into(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), Failure> {
    let mut memory = Memory::take(argon.params().block_count()).ok_or(Failure::OutOfMemory)?;
    argon
        .hash_password_into_with_memory(password, salt, out, memory.blocks())
        .map_err(Failure::Argon2)
}

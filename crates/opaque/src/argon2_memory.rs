//! Reusable Argon2 working memory.
//!
//! A fresh 64 MiB allocation costs about a third of an Argon2id run in page
//! faults; keeping a few wiped buffers for the common sizes avoids that.
//! Buffers are zeroized before they return to the pool, so no password-derived
//! block outlives its call, and large ones (the 2 GiB preset) are not kept.

use std::sync::Mutex;

use argon2::Block;
use rayon::prelude::*;
use zeroize::Zeroize;

/// Buffers larger than this are freed after use, not pooled.
const MAX_POOLED_BLOCKS: usize = 128 * 1024; // 128 MiB
/// At most this many buffers wait in the pool.
const MAX_POOLED: usize = 4;

static POOL: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Working memory of exactly `blocks` blocks, wiped and returned on drop.
pub(crate) struct Memory(Vec<Block>);

impl Memory {
    pub(crate) fn take(blocks: usize) -> Memory {
        let reused = POOL.lock().ok().and_then(|mut pool| {
            let i = pool.iter().position(|b| b.len() == blocks)?;
            Some(pool.swap_remove(i))
        });
        Memory(reused.unwrap_or_else(|| vec![Block::default(); blocks]))
    }

    pub(crate) fn blocks(&mut self) -> &mut [Block] {
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

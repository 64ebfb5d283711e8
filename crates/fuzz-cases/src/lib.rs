//! What each fuzz target does with its input. The libFuzzer binaries in
//! `fuzz/fuzz_targets/` are one line each around these functions, so the
//! same code also runs over the committed corpora in `cargo test`
//! (`tests/corpora.rs`) and builds the seed corpora (`src/bin/seed-corpora.rs`).
//!
//! Every target reads its first byte as a selector (which parser, which
//! suite) and hands the rest to the public API of a core crate. A target
//! never panics on refused input: a panic, abort, timeout or out-of-memory
//! is the finding. Where a parser accepts, the target also checks that
//! serializing again gives back the same bytes (formats are canonical).
#![forbid(unsafe_code)]

mod fixtures;
pub mod opaque;
pub mod pop;
pub mod relay;
pub mod seal;
pub mod session;

/// Whether the input was accepted by the parser it reached. Seeds must be
/// accepted (`tests/corpora.rs`), which shows each target reaches the code
/// behind its parsers rather than stopping at the first length check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Refused,
}

impl<T, E> From<Result<T, E>> for Outcome {
    fn from(r: Result<T, E>) -> Self {
        if r.is_ok() {
            Outcome::Accepted
        } else {
            Outcome::Refused
        }
    }
}

/// One fuzz target: its name (the binary in fuzz/ and the corpus folder),
/// what it runs, and its seeds (selector byte included).
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]) -> Outcome,
    pub seeds: fn() -> Vec<Vec<u8>>,
}

pub const TARGETS: &[Target] = &[
    Target {
        name: "opaque",
        run: opaque::run,
        seeds: opaque::seeds,
    },
    Target {
        name: "seal_box",
        run: seal::boxes,
        seeds: seal::box_seeds,
    },
    Target {
        name: "seal_stream",
        run: seal::stream,
        seeds: seal::stream_seeds,
    },
    Target {
        name: "vault_manifest",
        run: seal::manifest,
        seeds: seal::manifest_seeds,
    },
    Target {
        name: "password_phc",
        run: seal::phc,
        seeds: seal::phc_seeds,
    },
    Target {
        name: "session_records",
        run: session::records,
        seeds: session::record_seeds,
    },
    Target {
        name: "session_starts",
        run: session::starts,
        seeds: session::start_seeds,
    },
    Target {
        name: "ratchet",
        run: session::ratchet,
        seeds: session::ratchet_seeds,
    },
    Target {
        name: "pop",
        run: pop::run,
        seeds: pop::seeds,
    },
    Target {
        name: "relay_frames",
        run: relay::frames,
        seeds: relay::frame_seeds,
    },
];

/// The first byte and the rest; an empty input selects nothing.
fn split(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(s, rest)| (*s, rest))
}

/// `selector ‖ bytes`, the shape of every seed.
fn seed(selector: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + bytes.len());
    out.push(selector);
    out.extend_from_slice(bytes);
    out
}

//! Every fuzz target over its committed corpus, without libFuzzer: what
//! the fuzzer once found (and every seed) keeps running in `cargo test`, and
//! a seed that stops being accepted means a target no longer reaches the
//! code behind its parsers (or a fixture is stale: run seed-corpora).

use std::{fs, path::PathBuf};

use keyward_fuzz_cases::{Outcome, TARGETS};

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|f| {
            (
                f.file_name().to_string_lossy().into_owned(),
                fs::read(f.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_seed_is_accepted_by_its_target() {
    for target in TARGETS {
        let seeds: Vec<_> = corpus(target.name)
            .into_iter()
            .filter(|(n, _)| n.starts_with("seed-"))
            .collect();
        assert!(!seeds.is_empty(), "{} has no seeds", target.name);
        for (name, bytes) in seeds {
            assert_eq!(
                (target.run)(&bytes),
                Outcome::Accepted,
                "{}/{name}",
                target.name
            );
        }
    }
}

#[test]
fn every_corpus_input_runs_without_a_crash() {
    for target in TARGETS {
        for (_, bytes) in corpus(target.name) {
            (target.run)(&bytes);
        }
    }
}

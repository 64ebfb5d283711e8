//! Writes the committed fixtures (crates/fuzz-cases/fixtures) and each
//! target's seeds into fuzz/corpus/<target>/seed-<n>. Seeds are made from
//! real outputs of the cores; libFuzzer adds what it finds next to them.
//!
//! `cargo run -p keyward-fuzz-cases --bin seed-corpora`

use std::{fs, path::PathBuf};

fn main() {
    keyward_fuzz_cases::session::write_fixtures();
    let corpora = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for target in keyward_fuzz_cases::TARGETS {
        let dir = corpora.join(target.name);
        fs::create_dir_all(&dir).unwrap();
        for old in fs::read_dir(&dir).unwrap().flatten() {
            if old.file_name().to_string_lossy().starts_with("seed-") {
                fs::remove_file(old.path()).unwrap();
            }
        }
        let seeds = (target.seeds)();
        for (n, seed) in seeds.iter().enumerate() {
            fs::write(dir.join(format!("seed-{n:02}")), seed).unwrap();
        }
        println!("{}: {} seeds", target.name, seeds.len());
    }
}

use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::time::Instant;
fn main() {
    let params = Params::new(65536, 3, 4, Some(64)).unwrap();
    let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; 64];
    for _ in 0..3 { let t = Instant::now(); a.hash_password_into(b"pw", &[0; 16], &mut out).unwrap(); println!("fresh {:?}", t.elapsed()); }
    let mut blocks = vec![Block::default(); params.block_count()];
    for _ in 0..3 { let t = Instant::now(); a.hash_password_into_with_memory(b"pw", &[0; 16], &mut out, &mut blocks).unwrap(); println!("reused {:?}", t.elapsed()); }
    let t = Instant::now(); for b in blocks.iter_mut() { *b = Block::default(); } println!("zero {:?}", t.elapsed());
    let p1 = Params::new(65536, 3, 1, Some(64)).unwrap();
    let a1 = Argon2::new(Algorithm::Argon2id, Version::V0x13, p1);
    let t = Instant::now(); a1.hash_password_into_with_memory(b"pw", &[0; 16], &mut out, &mut blocks).unwrap(); println!("p=1 reused {:?}", t.elapsed());
}

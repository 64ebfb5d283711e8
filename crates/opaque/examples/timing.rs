use keyward_opaque::*;
use rand_core::OsRng;
use std::time::Instant;
fn main() {
    for suite in [Suite::Ristretto255Sha512] {
        let setup = ServerSetup::generate(suite, &mut OsRng);
        let p = ClientParams { key_stretching: KeyStretching::Custom { iterations: 1, memory: 64, parallelism: 1 }, ..Default::default() };
        let (req, st) = client::registration_start(suite, &mut OsRng, b"pw").unwrap();
        let resp = setup.registration_response(&req, b"u").unwrap();
        let fin = client::registration_finish(st, &mut OsRng, b"pw", &resp, &p).unwrap();
        let rec = ServerRegistration::from_upload(suite, &fin.upload).unwrap();
        let (req, _st) = client::login_start(suite, &mut OsRng, b"pw").unwrap();
        let n = 3000;
        let t = Instant::now();
        for _ in 0..n { setup.login_start(&mut OsRng, Some(&rec), &req, b"u", &Default::default()).unwrap(); }
        println!("{} login_start {:?}", suite.name(), t.elapsed() / n);
    }
}

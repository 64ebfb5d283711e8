#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (keyward_fuzz_cases::TARGETS.iter().find(|t| t.name == "relay_frames").unwrap().run)(data);
});

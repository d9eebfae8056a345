#![no_main]
use mlcalyx_fuzz_readers::{fuzz_one, Target};

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_one(Target::Npy, data));

#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cdspred_fuzz::genbank(data));

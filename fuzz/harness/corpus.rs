//! Replays checked-in fuzz corpora (`fuzz/corpus/<target>/*`) and harness seeds through the
//! harness functions: the stable-toolchain side of the fuzz targets.

use std::path::PathBuf;

/// A fuzz target: its name and the harness function it runs.
pub type Target = (&'static str, fn(&[u8]));

/// The corpus folder of a target.
pub fn dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

/// Run every corpus file and every seed of every target; fails if a target has no corpus.
pub fn replay(targets: &[Target], seeds: fn(&str) -> Vec<Vec<u8>>) {
    for (name, run) in targets {
        let dir = dir(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()))
            .map(|e| e.expect("readable corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "corpus {} is empty", dir.display());
        for file in &files {
            let data = std::fs::read(file).expect("readable corpus file");
            run(&data);
        }
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "no seeds for {name}");
        for seed in &seeds {
            run(seed);
        }
        eprintln!(
            "{name}: {} corpus files, {} seeds",
            files.len(),
            seeds.len()
        );
    }
}

//! Writes the seed corpora `fuzz/corpus/<target>/seed-NN` from the harnesses' `seeds()`
//! (valid encodings and interesting sequences, so campaigns start from meaningful inputs).
//! Existing files are kept; run from anywhere: `cargo run --manifest-path fuzz/Cargo.toml --bin gen-corpus`.

#[path = "../../harness/bft.rs"]
mod bft;
#[path = "../../harness/committee.rs"]
mod committee;
#[path = "../../harness/dkg.rs"]
mod dkg;
#[path = "../../harness/input.rs"]
mod input;
#[path = "../../harness/threshold.rs"]
mod threshold;

fn write(target: &str, seeds: Vec<Vec<u8>>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("create corpus folder");
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:02}")), seed).expect("write seed");
    }
    println!("{target}: {} seeds", seeds.len());
}

fn main() {
    for (name, _) in threshold::TARGETS {
        write(name, threshold::seeds(name));
    }
    for (name, _) in committee::TARGETS {
        write(name, committee::seeds(name));
    }
    for (name, _) in dkg::TARGETS {
        write(name, dkg::seeds(name));
    }
    for (name, _) in bft::TARGETS {
        write(name, bft::seeds(name));
    }
}

//! The CUDA C++ kernels, as sources for NVRTC.
//!
//! `cuda/` holds headers of `__host__ __device__` functions layered like the WGSL
//! (`ff/`, `ec/`, `hash/`, `reduce/`, `msm/`) and `kernels.cu`, the thin `__global__`
//! wrappers. NVRTC is given one translation unit: `kernels.cu` with every quoted
//! `#include` pasted in place, each file once, and `#line` markers so that compiler
//! messages name the original file and line. The same headers compile on the host with
//! a C++ compiler (`cuda/test/driver.cpp`), which is how they are tested without a GPU.

use std::collections::HashSet;

/// The folder of the CUDA sources, for host compilers (`-I`).
pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cuda");

/// The host test driver: reads operations on stdin, writes results on stdout.
pub const TEST_DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cuda/test/driver.cpp");

/// Every CUDA source file, by its path under `cuda/`.
pub const FILES: [(&str, &str); 11] = [
    ("kernels.cu", include_str!("../cuda/kernels.cu")),
    ("common.cuh", include_str!("../cuda/common.cuh")),
    ("ff/fp.cuh", include_str!("../cuda/ff/fp.cuh")),
    ("ff/fp2.cuh", include_str!("../cuda/ff/fp2.cuh")),
    ("ec/point.cuh", include_str!("../cuda/ec/point.cuh")),
    ("ec/g1.cuh", include_str!("../cuda/ec/g1.cuh")),
    ("ec/g2.cuh", include_str!("../cuda/ec/g2.cuh")),
    ("hash/sha256.cuh", include_str!("../cuda/hash/sha256.cuh")),
    ("hash/merkle.cuh", include_str!("../cuda/hash/merkle.cuh")),
    ("reduce/sum.cuh", include_str!("../cuda/reduce/sum.cuh")),
    (
        "msm/pippenger.cuh",
        include_str!("../cuda/msm/pippenger.cuh"),
    ),
];

/// The `extern "C" __global__` entry points of `kernels.cu`, by layer.
pub const KERNELS: [&str; 11] = [
    "sha256_blocks",
    "merkle_level",
    "g1_sum_affine",
    "g1_sum_projective",
    "g2_sum_affine",
    "g2_sum_projective",
    "g1_bucket_sum",
    "g2_bucket_sum",
    "g1_window_segment",
    "g2_window_segment",
    "g1_scale",
];

/// Threads per block of the sum kernels (`SUM_THREADS` in `reduce/sum.cuh`).
pub const SUM_THREADS: u32 = 128;

/// A source that could not be assembled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError(pub String);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn file(path: &str) -> Option<&'static str> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}

/// `kernels.cu` with its includes pasted in: the one translation unit NVRTC compiles.
pub fn translation_unit() -> Result<String, SourceError> {
    let mut out = String::new();
    let mut seen = HashSet::new();
    paste("kernels.cu", &mut seen, &mut out)?;
    Ok(out)
}

fn paste(path: &str, seen: &mut HashSet<String>, out: &mut String) -> Result<(), SourceError> {
    if !seen.insert(path.to_string()) {
        return Ok(());
    }
    let source = file(path).ok_or_else(|| SourceError(format!("no CUDA source {path}")))?;
    out.push_str(&format!("#line 1 \"{path}\"\n"));
    for (number, line) in source.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed == "#pragma once" {
            out.push('\n');
        } else if let Some(rest) = trimmed.strip_prefix("#include \"") {
            let included = rest
                .strip_suffix('"')
                .ok_or_else(|| SourceError(format!("{path}:{}: malformed #include", number + 1)))?;
            if file(included).is_none() {
                return Err(SourceError(format!(
                    "{path}:{}: includes {included}, which is not a CUDA source of veribatch",
                    number + 1
                )));
            }
            paste(included, seen, out)?;
            out.push_str(&format!("#line {} \"{path}\"\n", number + 2));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_on_disk_is_listed_and_pasted_once() {
        let mut on_disk = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(DIR)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let relative = path
                        .strip_prefix(DIR)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    if !relative.starts_with("test/") {
                        on_disk.push(relative);
                    }
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);

        let unit = translation_unit().unwrap();
        for (path, _) in FILES {
            let marker = format!("#line 1 \"{path}\"\n");
            assert_eq!(unit.matches(&marker).count(), 1, "{path}");
        }
        assert!(!unit.contains("#include \""));
        assert!(!unit.contains("#pragma once"));
    }

    #[test]
    fn every_kernel_is_defined() {
        let unit = translation_unit().unwrap();
        for name in KERNELS {
            assert!(
                unit.contains(&format!("__global__ void {name}(")),
                "{name} is not an entry point of kernels.cu"
            );
        }
    }

    #[test]
    fn the_sum_block_size_is_the_headers_own() {
        let unit = translation_unit().unwrap();
        assert!(unit.contains(&format!("#define SUM_THREADS {SUM_THREADS}\n")));
    }

    #[test]
    fn line_markers_point_back_into_the_including_file() {
        let unit = translation_unit().unwrap();
        // kernels.cu's first include is on its line 7: the text after it is line 8.
        let first_include = FILES[0]
            .1
            .lines()
            .position(|l| l.starts_with("#include"))
            .unwrap();
        assert!(unit.contains(&format!("#line {} \"kernels.cu\"\n", first_include + 2)));
    }
}

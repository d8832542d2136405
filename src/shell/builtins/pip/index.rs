//! The package index `pip install` reaches: what PyPI would offer for the
//! packages ComfyUI nodes ask for (name, version, wheel tag, size, direct
//! dependencies). Names not here are "not found", as on a private index.

/// One installable release.
#[derive(Clone, Copy, Debug)]
pub(super) struct Release {
    /// The project name as PyPI spells it.
    pub name: &'static str,
    /// The newest version.
    pub version: &'static str,
    /// The wheel's tag (`py3-none-any`), or `None` for an sdist (`.tar.gz`).
    pub tag: Option<&'static str>,
    /// The download's size in bytes.
    pub size: u64,
    /// Direct requirements (`numpy>=1.21.2`).
    pub requires: &'static [&'static str],
}

macro_rules! release {
    ($name:expr, $v:expr, $tag:expr, $size:expr, [$($r:expr),*]) => {
        Release { name: $name, version: $v, tag: $tag, size: $size, requires: &[$($r),*] }
    };
}

/// The index, sorted by name.
pub(super) const INDEX: &[Release] = &[
    release!("accelerate", "0.31.0", Some("py3-none-any"), 309_400, ["numpy>=1.17", "packaging>=20.0", "psutil", "pyyaml", "torch>=1.10.0", "huggingface-hub", "safetensors>=0.3.1"]),
    release!("aiohttp", "3.9.5", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 1_300_000, ["aiosignal>=1.1.2", "attrs>=17.3.0", "frozenlist>=1.1.1", "multidict<7.0,>=4.5", "yarl<2.0,>=1.0"]),
    release!("aiosignal", "1.3.1", Some("py3-none-any"), 7_600, ["frozenlist>=1.1.0"]),
    release!("attrs", "23.2.0", Some("py3-none-any"), 60_800, []),
    release!("color-matcher", "0.5.0", Some("py3-none-any"), 26_000, ["numpy", "imageio", "docutils", "ddt"]),
    release!("ddt", "1.7.2", Some("py2.py3-none-any"), 7_100, []),
    release!("diffusers", "0.29.0", Some("py3-none-any"), 2_200_000, ["filelock", "huggingface-hub>=0.23.2", "numpy", "pillow", "regex!=2019.12.17", "requests", "safetensors>=0.3.1"]),
    release!("docutils", "0.21.2", Some("py3-none-any"), 587_400, []),
    release!("einops", "0.8.0", Some("py3-none-any"), 43_200, []),
    release!("frozenlist", "1.4.1", Some("cp311-cp311-manylinux_2_5_x86_64.manylinux1_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64"), 272_300, []),
    release!("gitdb", "4.0.11", Some("py3-none-any"), 62_700, ["smmap<6,>=3.0.1"]),
    release!("gitpython", "3.1.43", Some("py3-none-any"), 207_300, ["gitdb<5,>=4.0.1"]),
    release!("hf-transfer", "0.1.6", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 3_600_000, []),
    release!("imageio", "2.34.1", Some("py3-none-any"), 313_500, ["numpy", "pillow>=8.3.2"]),
    release!("kornia", "0.7.2", Some("py2.py3-none-any"), 825_200, ["kornia-rs>=0.1.0", "packaging", "torch>=1.9.1"]),
    release!("kornia-rs", "0.1.3", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 2_400_000, []),
    release!("multidict", "6.0.5", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 128_700, []),
    release!("onnx", "1.16.1", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 15_900_000, ["numpy>=1.20", "protobuf>=3.20.2"]),
    release!("onnxruntime-gpu", "1.18.0", Some("cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64"), 200_800_000, ["numpy>=1.21.6", "packaging", "protobuf"]),
    release!("opencv-contrib-python", "4.10.0.84", Some("cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"), 68_700_000, ["numpy>=1.21.2"]),
    release!("opencv-python", "4.10.0.84", Some("cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"), 62_500_000, ["numpy>=1.21.2"]),
    release!("opencv-python-headless", "4.10.0.84", Some("cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"), 49_900_000, ["numpy>=1.21.2"]),
    release!("packaging", "24.1", Some("py3-none-any"), 53_000, []),
    release!("piexif", "1.1.3", Some("py2.py3-none-any"), 20_600, []),
    release!("protobuf", "5.27.1", Some("cp38-abi3-manylinux2014_x86_64"), 309_200, []),
    release!("psutil", "5.9.8", Some("cp36-abi3-manylinux_2_12_x86_64.manylinux2010_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64"), 288_200, []),
    release!("regex", "2024.5.15", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 785_100, []),
    release!("scikit-image", "0.24.0", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 14_900_000, ["numpy>=1.23", "scipy>=1.9", "pillow>=9.1", "imageio>=2.33", "packaging>=21"]),
    release!("scipy", "1.13.1", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 38_600_000, ["numpy<2.3,>=1.22.4"]),
    release!("segment-anything", "1.0", Some("py3-none-any"), 36_600, []),
    release!("sentencepiece", "0.2.0", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 1_300_000, []),
    release!("simpleeval", "0.9.13", Some("py2.py3-none-any"), 15_700, []),
    release!("smmap", "5.0.1", Some("py3-none-any"), 24_300, []),
    release!("spandrel", "0.3.4", Some("py3-none-any"), 268_500, ["torch", "torchvision", "safetensors", "numpy", "einops", "typing-extensions"]),
    release!("torchsde", "0.2.6", Some("py3-none-any"), 61_200, ["numpy>=1.19", "scipy>=1.5", "torch>=1.6.0", "trampoline>=0.1.2"]),
    release!("trampoline", "0.1.2", Some("py3-none-any"), 5_200, []),
    release!("ultralytics", "8.2.28", Some("py3-none-any"), 779_600, ["numpy<2.0.0,>=1.23.0", "opencv-python>=4.6.0", "pillow>=7.1.2", "pyyaml>=5.3.1", "requests>=2.23.0", "torch>=1.8.0", "torchvision>=0.9.0", "tqdm>=4.64.0", "psutil"]),
    release!("xformers", "0.0.26.post1", Some("cp311-cp311-manylinux2014_x86_64"), 222_700_000, ["numpy", "torch==2.3.0"]),
    release!("yarl", "1.9.4", Some("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"), 328_100, ["idna>=2.0", "multidict>=4.0"]),
];

/// The release called `name` (compared as pip normalizes names).
pub(super) fn find(name: &str) -> Option<Release> {
    let want = normalize(name);
    INDEX.iter().copied().find(|r| normalize(r.name) == want)
}

/// PEP 503 normalization: case-insensitive, `_` and `.` same as `-`.
pub(super) fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// The file pip downloads for `r` at `version`.
pub(super) fn file_name(r: &Release, version: &str) -> String {
    match r.tag {
        Some(tag) => format!("{}-{version}-{tag}.whl", r.name.replace('-', "_")),
        None => format!("{}-{version}.tar.gz", r.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANY: &str = "manylinux_2_17_x86_64.manylinux2014_x86_64";

    #[test]
    fn the_index_is_sorted_and_every_requirement_is_known_or_preinstalled() {
        let names: Vec<&str> = INDEX.iter().map(|r| r.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        for r in INDEX {
            for req in r.requires {
                let name = super::super::requirement::Requirement::parse(req)
                    .unwrap()
                    .name;
                assert!(
                    find(&name).is_some() || super::super::site::preinstalled(&name).is_some(),
                    "{}: {req}",
                    r.name
                );
            }
        }
        assert_eq!(
            file_name(&find("opencv_python").unwrap(), "4.10.0.84"),
            format!("opencv_python-4.10.0.84-cp37-abi3-{MANY}.whl")
        );
    }
}

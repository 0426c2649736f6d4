//! Embeds the example workspace (examples/hecheng-2009) so `cs-score init --example` can
//! write it anywhere: generates a list of (relative path, include_bytes!) pairs.

use std::path::Path;

fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("example folder").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            walk(&path, base, out);
        } else {
            let rel = path.strip_prefix(base).expect("inside base").to_string_lossy().replace('\\', "/");
            let abs = path.canonicalize().expect("path");
            out.push(format!("    ({rel:?}, include_bytes!({:?})),\n", abs.to_string_lossy()));
        }
    }
}

fn main() {
    let base = Path::new("examples/hecheng-2009");
    println!("cargo:rerun-if-changed=examples/hecheng-2009");
    let mut files = Vec::new();
    walk(base, base, &mut files);
    let code = format!(
        "/// The example workspace's files.\npub const EXAMPLE_FILES: &[(&str, &[u8])] = &[\n{}];\n",
        files.concat()
    );
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("example_files.rs");
    std::fs::write(out, code).expect("write generated file");
}

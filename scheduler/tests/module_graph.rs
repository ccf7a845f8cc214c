//! The library's modules and the imports between them, read from the source: no module
//! reaches itself through imports, and the foundation is layered (the clocks import
//! nothing of the library, the domain model only the clocks, the errors only the model
//! and the clocks). A module is a top-level file or folder of `src/` (the binary in `src/bin/` is
//! not part of the library); a path through a re-export of the crate root
//! (`crate::ShutdownReport`) counts as an import of the module it comes from.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

/// The foundation, bottom first, with what each may import: nothing else of the library.
const FOUNDATIONS: &[(&str, &[&str])] = &[
    ("clock", &[]),
    ("model", &["clock"]),
    ("error", &["model", "clock"]),
];

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    if first == "bin" || first == "lib.rs" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_owned())
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments (doc examples name `runloom::…`, not `crate::…`, but
/// prose may mention a path).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every path after `crate::`, including each item of a
/// `crate::{a::…, b, …}` group.
fn targets(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(i) = code[at..].find("crate::") {
        let start = at + i;
        at = start + "crate::".len();
        // `$crate::` in macros, or an identifier ending in `crate`.
        if start > 0
            && (bytes[start - 1].is_ascii_alphanumeric() || matches!(bytes[start - 1], b'_' | b'$'))
        {
            continue;
        }
        if code[at..].starts_with('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in code[at..].char_indices() {
                match c {
                    '{' => {
                        depth += 1;
                        if depth == 1 {
                            item_start = true;
                            continue;
                        }
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            at += j;
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        item_start = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 && item_start && (c.is_ascii_alphabetic() || c == '_') {
                    let rest = &code[at + j..];
                    let end = rest
                        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                        .unwrap_or(rest.len());
                    out.insert(rest[..end].to_owned());
                    item_start = false;
                }
            }
        } else {
            let rest = &code[at..];
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            out.insert(rest[..end].to_owned());
        }
    }
    out
}

/// Name → module, for the items the crate root re-exports (`pub use crate::{m::{A, B}}`
/// in lib.rs).
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(at) = lib.find("pub use crate::{") else {
        return out;
    };
    let body = &lib[at + "pub use crate::{".len()..];
    let mut depth = 0;
    let mut module: Option<String> = None;
    let mut word = String::new();
    for c in body.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            if depth == 0 && module.is_none() {
                module = Some(std::mem::take(&mut word));
            } else if let Some(m) = &module {
                out.insert(std::mem::take(&mut word), m.clone());
            }
            word.clear();
        }
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => module = None,
            _ => {}
        }
    }
    out
}

/// Module → the modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let root = root_reexports(&code_of(
        &fs::read_to_string(src.join("lib.rs")).expect("lib.rs reads"),
    ));
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for f in &all {
        if let Some(m) = module_of(&src, f) {
            modules.insert(m);
        }
    }
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &all {
        let Some(m) = module_of(&src, f) else {
            continue;
        };
        let code = code_of(&fs::read_to_string(f).expect("a source file reads"));
        let entry = g.entry(m.clone()).or_default();
        for t in targets(&code) {
            let t = root.get(&t).cloned().unwrap_or(t);
            if t != m && modules.contains(&t) {
                entry.insert(t);
            }
        }
    }
    g
}

/// The modules that can reach themselves through imports.
fn in_a_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = g
            .get(from)
            .into_iter()
            .flatten()
            .map(|s| s.as_str())
            .collect();
        while let Some(n) = stack.pop() {
            if seen.insert(n.to_owned()) {
                stack.extend(g.get(n).into_iter().flatten().map(|s| s.as_str()));
            }
        }
        seen
    };
    g.keys()
        .filter(|m| reach(m).contains(*m))
        .cloned()
        .collect()
}

#[test]
fn the_reader_sees_grouped_and_plain_imports() {
    let code = "use crate::{a::X, b, c::{d, e}};\nfn f() { crate::g::h(); $crate::no; }";
    let t = targets(code);
    assert_eq!(
        t,
        ["a", "b", "c", "g"].iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn root_reexports_are_traced_to_their_module() {
    let lib = "pub use crate::{\n    a::{X, Y},\n    b::Z,\n    c::{d::W, V},\n};";
    let map = root_reexports(lib);
    assert_eq!(map["X"], "a");
    assert_eq!(map["Y"], "a");
    assert_eq!(map["Z"], "b");
    assert_eq!(map["V"], "c");
    assert!(!map.contains_key("a"));
}

#[test]
fn the_foundation_imports_only_what_lies_below_it() {
    let g = graph();
    for (m, below) in FOUNDATIONS {
        let imports = g.get(*m).unwrap_or_else(|| panic!("no module {m} in src/"));
        let outside: Vec<_> = imports
            .iter()
            .filter(|t| !below.contains(&t.as_str()))
            .collect();
        assert!(outside.is_empty(), "{m} imports {outside:?}");
    }
}

#[test]
fn no_module_is_in_an_import_cycle() {
    let cyclic = in_a_cycle(&graph());
    assert!(cyclic.is_empty(), "in an import cycle: {cyclic:?}");
}

#[test]
fn a_cycle_through_three_modules_is_found_and_a_chain_is_not() {
    let g = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let cyclic = in_a_cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]));
    assert_eq!(
        cyclic,
        ["a", "b", "c"].iter().map(|s| s.to_string()).collect()
    );
    assert!(in_a_cycle(&g(&[("a", "b"), ("b", "c"), ("d", "a")])).is_empty());
}

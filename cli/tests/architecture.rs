//! The layering rules of ARCHITECTURE.md, checked on the source text:
//! the engine names no protocol's field, and no crate's modules import
//! each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The lines of a file before its test module (clippy keeps test modules
/// last), comments dropped.
fn code_lines(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect()
}

/// String literals shaped like a field abbreviation (`proto.field`).
fn field_literals(line: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find('"') {
        let after = rest.get(i + 1..).unwrap_or("");
        let Some(j) = after.find('"') else { break };
        let lit = after.get(..j).unwrap_or("");
        let shaped = lit.split_once('.').is_some_and(|(p, f)| {
            p.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
                && !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        });
        if shaped {
            v.push(lit.to_string());
        }
        rest = after.get(j + 1..).unwrap_or("");
    }
    v
}

#[test]
fn the_engine_names_no_protocol_field() {
    let mut files = Vec::new();
    rust_files(&workspace().join("engine/src"), &mut files);
    assert!(files.len() > 10, "engine sources found");
    let mut found = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).expect("read");
        if f.ends_with("tests.rs") {
            continue;
        }
        for line in code_lines(&text) {
            for lit in field_literals(line) {
                // The engine's own: the frame record and expert items.
                if !lit.starts_with("frame.") && !lit.starts_with("_ws.") {
                    found.push(format!("{}: {lit}", f.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "protocol fields named in the engine:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_a_field_literal() {
    assert_eq!(
        field_literals(r#"l("http.host"), "a b", "0.5""#),
        ["http.host"]
    );
}

/// `a::b` for `src/a/b.rs` or `src/a/b/mod.rs`; `` for the crate root.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The modules of one crate each module names through `crate::` or
/// `super::` paths (its own ancestors left out: a child using its parent's
/// items is the module tree itself).
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mods: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for f in &files {
        let me = module_of(src, f);
        let text = fs::read_to_string(f).expect("read");
        let mut to = BTreeSet::new();
        let parent = me
            .rsplit_once("::")
            .map_or(String::new(), |(p, _)| p.to_string());
        for line in code_lines(&text) {
            for (prefix, base) in [("crate::", String::new()), ("super::", parent.clone())] {
                let mut rest = line;
                while let Some(i) = rest.find(prefix) {
                    let path: String = rest
                        .get(i + prefix.len()..)
                        .unwrap_or("")
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    // The longest module the path names.
                    let mut best = None;
                    let mut cur = base.clone();
                    for seg in path.split("::").filter(|s| !s.is_empty()) {
                        cur = if cur.is_empty() {
                            seg.to_string()
                        } else {
                            format!("{cur}::{seg}")
                        };
                        if mods.contains(&cur) {
                            best = Some(cur.clone());
                        }
                    }
                    if let Some(b) = best {
                        let ancestor = b.is_empty() || me == b || me.starts_with(&format!("{b}::"));
                        if !ancestor {
                            to.insert(b);
                        }
                    }
                    rest = rest.get(i + prefix.len()..).unwrap_or("");
                }
            }
        }
        graph.insert(me, to);
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // 0 unvisited, 1 on the stack, 2 done.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut c = stack.get(at..).unwrap_or_default().to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_crate_has_an_import_cycle() {
    let root = workspace();
    let mut srcs = vec![root.join("engine/src"), root.join("cli/src")];
    for e in fs::read_dir(root.join("dissectors"))
        .expect("dissectors")
        .flatten()
    {
        srcs.push(e.path().join("src"));
    }
    let mut checked = 0;
    for src in srcs.iter().filter(|s| s.is_dir()) {
        let g = imports(src);
        checked += g.len();
        if let Some(c) = find_cycle(&g) {
            panic!("import cycle in {}: {}", src.display(), c.join(" -> "));
        }
    }
    assert!(checked > 40, "modules checked: {checked}");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}

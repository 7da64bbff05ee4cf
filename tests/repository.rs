//! Checks on the repository itself: the module graph keeps the engine free
//! of the UI and the services and has no cycle, and every reference to the
//! project's documentation points at a heading that exists.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file below `dir` (recursively) whose name ends in one of `exts`.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') {
                files(&p, exts, out);
            }
        } else if exts.iter().any(|e| name.ends_with(e)) {
            out.push(p);
        }
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

// ---------------------------------------------------------------------------
// The module graph

/// The library's top-level modules, as `lib.rs` declares them.
fn top_level_modules() -> BTreeSet<String> {
    let lib = fs::read_to_string(root().join("src/lib.rs")).expect("src/lib.rs");
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|l| l.trim_end_matches(';').trim().to_string())
        .collect()
}

/// The top-level module a source file belongs to (`src/archive/source.rs` → `archive`).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root().join("src")).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// The code of a file without its comments (doc links name modules without depending on them).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules named by `crate::` paths in `code`, including
/// grouped imports (`use crate::{archive::Archive, event}`).
fn crate_refs(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // Top-level names of the group: split on commas at depth 0.
            let mut depth = 0;
            let mut word = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    c if at_start && (c.is_alphanumeric() || c == '_') => word.push(c),
                    _ if at_start && !word.is_empty() => {
                        out.insert(std::mem::take(&mut word));
                        at_start = false;
                    }
                    _ => {}
                }
            }
            if !word.is_empty() {
                out.insert(word);
            }
        } else {
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            out.insert(name);
        }
        rest = after;
    }
    out.retain(|m| modules.contains(m));
    out
}

/// Module → the top-level modules its code uses.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = top_level_modules();
    let mut paths = Vec::new();
    files(&root().join("src"), &[".rs"], &mut paths);
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for p in paths {
        let Some(m) = module_of(&p) else { continue };
        // The binary's own files (main.rs, cli.rs) are not part of the library.
        let Some(deps) = graph.get_mut(&m) else { continue };
        let text = fs::read_to_string(&p).expect("source is UTF-8");
        deps.extend(crate_refs(&code_of(&text), &modules).into_iter().filter(|d| *d != m));
    }
    graph
}

/// The module map as text, one line per module (printed by the test for the docs).
fn render(graph: &BTreeMap<String, BTreeSet<String>>) -> String {
    graph
        .iter()
        .map(|(m, deps)| format!("{m:<9} → {}\n", deps.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect()
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

/// The modules that are the UI or a service, not the engine.
const OUTER: [&str; 2] = ["tui", "timesync"];

#[test]
fn the_engine_never_depends_on_the_ui_or_the_services() {
    let graph = module_graph();
    println!("{}", render(&graph));
    for (m, deps) in &graph {
        if OUTER.contains(&m.as_str()) {
            continue;
        }
        for d in deps {
            assert!(!OUTER.contains(&d.as_str()), "the engine module {m} depends on {d}:\n{}", render(&graph));
        }
    }
    // The services know nothing of the UI.
    assert!(!graph["timesync"].contains("tui"), "timesync depends on tui:\n{}", render(&graph));
}

#[test]
fn no_cycle_between_modules() {
    let graph = module_graph();
    for m in graph.keys() {
        if let Some(c) = cycle_from(&graph, m) {
            panic!("a cycle between modules: {}\n{}", c.join(" → "), render(&graph));
        }
    }
}

#[test]
fn the_graph_reader_sees_grouped_imports_and_skips_comments() {
    let modules: BTreeSet<String> = ["archive", "event", "time", "tui"].iter().map(|s| s.to_string()).collect();
    let code = code_of("use crate::{archive::{Archive, Keep}, event};\n// see crate::tui\nlet t = crate::time::now();");
    let refs: Vec<String> = crate_refs(&code, &modules).into_iter().collect();
    assert_eq!(refs, ["archive", "event", "time"]);
}

// ---------------------------------------------------------------------------
// Documentation references

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(path: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// `(file, anchor)` for every reference to a page of the documentation, with its anchor, in `text`.
fn doc_refs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("docs/") {
        let after = &rest[i + "docs/".len()..];
        let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').collect();
        if let Some(tail) = after[name.len()..].strip_prefix(".md") {
            let anchor = tail
                .strip_prefix('#')
                .map(|a| a.chars().take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_').collect())
                .unwrap_or_default();
            out.push((format!("{name}.md"), anchor));
        }
        rest = after;
    }
    out
}

/// `(target, anchor)` for every relative Markdown link `](target#anchor)` in `text`.
fn markdown_links(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = &after[..end];
        if !target.contains("://") && !target.contains(' ') {
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            out.push((file.to_string(), anchor.to_string()));
        }
        rest = after;
    }
    out
}

/// The text files of the repository that may cite the documentation.
fn cited_in() -> Vec<PathBuf> {
    let r = root();
    let mut out = Vec::new();
    for dir in ["src", "tests", "benches", "examples", "scripts", "samples", "docs"] {
        files(&r.join(dir), &[".rs", ".md", ".py", ".sh", ".toml", ".txt"], &mut out);
    }
    for f in ["README.md", "Cargo.toml"] {
        out.push(r.join(f));
    }
    out.retain(|p| p.is_file());
    out
}

#[test]
fn every_documentation_reference_resolves() {
    let docs = root().join("docs");
    let mut broken = Vec::new();
    let mut count = 0;
    for path in cited_in() {
        let Ok(text) = fs::read_to_string(&path) else { continue };
        for (file, anchor) in doc_refs(&text) {
            count += 1;
            let target = docs.join(&file);
            if !target.is_file() {
                broken.push(format!("{}: docs/{file} does not exist", rel(&path)));
            } else if !anchor.is_empty() && !anchors(&target).contains(&anchor) {
                broken.push(format!("{}: docs/{file}#{anchor} names no heading", rel(&path)));
            }
        }
    }
    assert!(broken.is_empty(), "{} broken of {count} references:\n{}", broken.len(), broken.join("\n"));
    assert!(count > 50, "only {count} references to docs/ found: is the reader broken?");
}

#[test]
fn links_between_documentation_pages_resolve() {
    let mut pages = Vec::new();
    files(&root().join("docs"), &[".md"], &mut pages);
    let mut broken = Vec::new();
    for page in &pages {
        let text = fs::read_to_string(page).expect("docs are UTF-8");
        for (file, anchor) in markdown_links(&text) {
            let target = if file.is_empty() { page.clone() } else { page.parent().expect("in docs/").join(&file) };
            if !target.exists() {
                broken.push(format!("{}: {file} does not exist", rel(page)));
            } else if !anchor.is_empty()
                && target.extension().is_some_and(|e| e == "md")
                && !anchors(&target).contains(&anchor)
            {
                broken.push(format!("{}: {file}#{anchor} names no heading", rel(page)));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn no_reference_to_a_document_outside_the_repository() {
    // Spelled in two pieces so that this file does not match itself.
    let outside = ["SP", "EC"].concat();
    let mut found = Vec::new();
    for path in cited_in() {
        let Ok(text) = fs::read_to_string(&path) else { continue };
        for (n, line) in text.lines().enumerate() {
            let section_sign = line
                .char_indices()
                .any(|(i, c)| c == '§' && line[i + c.len_utf8()..].starts_with(|d: char| d.is_ascii_digit()));
            if line.contains(&outside) || section_sign {
                found.push(format!("{}:{}: {}", rel(&path), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{} references to a document outside the repository:\n{}", found.len(), found.join("\n"));
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(anchor(" Traits 2014"), "traits-2014");
    assert_eq!(anchor("Duplicates and records not distilled"), "duplicates-and-records-not-distilled");
    assert_eq!(anchor("`audit --format json`"), "audit---format-json");
    assert_eq!(doc_refs("// docs/streams.md#firing: a stream …"), [("streams.md".to_string(), "firing".to_string())]);
}

//! The interactive replay's command line refuses what it cannot do before it
//! touches the terminal.

use assert_cmd::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("usage-replay").expect("binary").args(args).output().expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn standard_input_is_refused_with_a_reason() {
    let (code, err) = run(&["-"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read an archive from standard input"), "{err}");
}

#[test]
fn a_bad_at_time_is_refused() {
    let (code, err) = run(&["tests/fixtures/ui/mixed.jsonl", "--at", "yesterday"]);
    assert_eq!(code, 2);
    assert!(err.contains("--at: not a datetime: \"yesterday\""), "{err}");
}

#[test]
fn without_a_terminal_it_says_so() {
    // Its standard output is captured here, not a terminal.
    let (code, err) = run(&["tests/fixtures/ui/mixed.jsonl"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

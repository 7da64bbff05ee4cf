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

#[test]
fn bad_time_sync_options_are_refused_before_the_terminal() {
    let fixture = "tests/fixtures/ui/mixed.jsonl";
    for (args, says) in [
        (vec!["--publish-clock", "8001"], "--publish-clock \"8001\" is not a listen address"),
        (vec!["--publish-clock", "127.0.0.1:99999"], "--publish-clock \"127.0.0.1:99999\""),
        (vec!["--follow-clock", "https://127.0.0.1:8001"], "--follow-clock \"https://127.0.0.1:8001\": only http://"),
        (vec!["--follow-clock", "http://"], "no host"),
        (vec!["--follow-clock", "http://127.0.0.1:8001", "--poll", "0"], "--poll 0: expected a number of seconds"),
        (vec!["--follow-clock", "http://127.0.0.1:8001", "--poll", "soon"], "invalid value 'soon' for '--poll"),
        (vec!["--poll", "2"], "--follow-clock"),
        (vec!["--publish-clock", "127.0.0.1:8001", "--follow-clock", "http://127.0.0.1:8001"], "cannot be used with"),
    ] {
        let mut all = vec![fixture];
        all.extend(args.iter().copied());
        let (code, err) = run(&all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("needs a terminal") && !err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn good_time_sync_options_get_as_far_as_the_terminal() {
    for args in [vec!["--publish-clock", "127.0.0.1:0"], vec!["--follow-clock", "http://127.0.0.1:9/", "--poll", "0.5"]]
    {
        let mut all = vec!["tests/fixtures/ui/mixed.jsonl"];
        all.extend(args.iter().copied());
        let (code, err) = run(&all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("needs a terminal"), "{args:?}: {err}");
        assert!(!err.contains("warning"), "{args:?}: {err}");
    }
    // Publishing beyond loopback is allowed when asked for, with a warning.
    let (code, err) = run(&["tests/fixtures/ui/mixed.jsonl", "--publish-clock", "0.0.0.0:0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("warning: listening on 0.0.0.0:0, which is not a loopback address"), "{err}");
    assert!(err.contains("needs a terminal"), "{err}");
}

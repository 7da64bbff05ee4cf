//! Golden tests: the real binary on the bundled samples gives, stream by stream,
//! the results documented in samples/README.md, and the `events` / `emit`
//! outputs committed under tests/golden/.

use serde_json::Value;

mod common;
use common::run;

fn audit_json(args: &[&str]) -> (Value, i32) {
    let mut all = vec!["audit", "--format", "json"];
    all.extend_from_slice(args);
    let r = run(&all);
    let doc = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{}", r.stdout));
    (doc, r.code)
}

/// One stream as samples/README.md documents it.
struct S {
    id: u64,
    instance: &'static str,
    day: &'static str,
    state: &'static str,
    trigger: Option<&'static str>,
    outcome: &'static str,
    code: Option<&'static str>,
    events: u64,
    message: &'static str,
}

const DAY: &str = "2014-10-07";

fn verified(id: u64, instance: &'static str, events: u64) -> S {
    S {
        id,
        instance,
        day: DAY,
        state: "completed",
        trigger: Some("fire"),
        outcome: "verified",
        code: None,
        events,
        message: "",
    }
}

fn failed(id: u64, instance: &'static str, code: &'static str, events: u64, message: &'static str) -> S {
    S {
        id,
        instance,
        day: DAY,
        state: "completed",
        trigger: Some("fire"),
        outcome: "failed",
        code: Some(code),
        events,
        message,
    }
}

fn pending(id: u64, instance: &'static str, day: &'static str, events: u64) -> S {
    S { id, instance, day, state: "active", trigger: None, outcome: "pending", code: None, events, message: "" }
}

/// Compare every documented field of every stream, in stream order.
fn assert_streams(what: &str, doc: &Value, expected: &[S]) {
    let streams = doc["streams"].as_array().expect("streams is an array");
    assert_eq!(streams.len(), expected.len(), "{what}: number of streams");
    for (got, want) in streams.iter().zip(expected) {
        let at = format!("{what}: stream {}", want.id);
        assert_eq!(got["stream_id"], want.id, "{at}: stream_id");
        assert_eq!(got["instance_id"], want.instance, "{at}: instance_id");
        assert_eq!(got["day"], want.day, "{at}: day");
        assert_eq!(got["state"], want.state, "{at}: state");
        assert_eq!(got["trigger"].as_str(), want.trigger, "{at}: trigger");
        assert_eq!(got["outcome"], want.outcome, "{at}: outcome");
        assert_eq!(got["code"].as_str(), want.code, "{at}: code");
        assert_eq!(got["event_count"], want.events, "{at}: event_count");
        assert_eq!(got["message"], want.message, "{at}: message");
    }
}

/// The summary and the archive counts.
#[derive(Default)]
struct Totals {
    verified: u64,
    failed: u64,
    error: u64,
    pending: u64,
    unmatched: u64,
    duplicates: u64,
    not_distilled: u64,
    rejected: usize,
}

fn assert_totals(what: &str, doc: &Value, t: Totals) {
    let s = &doc["summary"];
    assert_eq!(s["verified"], t.verified, "{what}: verified");
    assert_eq!(s["failed"], t.failed, "{what}: failed");
    assert_eq!(s["error"], t.error, "{what}: error");
    assert_eq!(s["pending"], t.pending, "{what}: pending");
    assert_eq!(s["unmatched"], t.unmatched, "{what}: unmatched");
    assert_eq!(s["duplicates"], t.duplicates, "{what}: duplicates");
    assert_eq!(doc["unmatched"].as_array().map(|a| a.len() as u64), Some(t.unmatched), "{what}: unmatched listed");
    assert_eq!(doc["duplicates"].as_array().map(|a| a.len() as u64), Some(t.duplicates), "{what}: duplicates listed");
    assert_eq!(doc["not_distilled"], t.not_distilled, "{what}: not_distilled");
    assert_eq!(doc["rejected"].as_array().map(Vec::len), Some(t.rejected), "{what}: rejected");
}

fn by_code(doc: &Value, code: &str) -> u64 {
    doc["summary"]["by_code"][code].as_u64().unwrap_or_else(|| panic!("by_code has {code}"))
}

// ---- the day ------------------------------------------------------------------------------------

const DAY_STAGE_DB: &str = "b1afbd63-0d07-47be-a3ae-69644ec6039b";
const DAY_BUILD_F7: &str = "041b22c2-b074-43a8-b17d-1960312382a7";

fn day_streams() -> Vec<S> {
    vec![
        verified(1, "cfd8984b-de1c-472f-a763-7e0807d27934", 5),
        verified(2, "4d38f277-1164-4983-9a82-306307f9a4d3", 5),
        verified(3, "625ccc28-77aa-446c-b199-eaae650de012", 5),
        verified(4, "a58212bc-448a-4a77-9b3a-af933843cdab", 11),
        failed(5, DAY_BUILD_F7, "U1", 5, ".exists has no launched_at value."),
        verified(6, "da532c61-87a9-40d3-8d8e-4ddbbf9bc6aa", 7),
        verified(7, "18518de4-8435-4b1c-9564-5293cb62be06", 5),
        failed(
            8,
            DAY_STAGE_DB,
            "U2",
            12,
            "Conflicting 'launched_at' values ('2014-10-07 14:09:47.248887' != '2014-05-19 08:41:26')",
        ),
        failed(
            9,
            "a05875e8-1b49-4ff7-b366-5f1c792b82cf",
            "U2",
            6,
            "Conflicting 'launched_at' values ('2014-10-07 16:25:57.163481' != '2014-08-12 16:55:31')",
        ),
        verified(10, "2c15d166-e0d0-48d8-a36a-00b6a2c314e5", 5),
        failed(
            11,
            "b47d0524-3ff2-45a9-83c4-1f405d7bf4bc",
            "U5",
            5,
            ".exists deleted_at in audit period, but no matching .delete event found.",
        ),
        verified(12, "5fe553cc-3670-4d8e-99f6-93742efda181", 1),
        verified(13, "2af4d4a8-708f-46b6-872c-079d9185daca", 1),
        verified(14, "2df3faca-7ecb-4b84-b3ab-7656d673ad64", 1),
    ]
}

#[test]
fn day_audit() {
    let (doc, code) = audit_json(&["samples/day.jsonl"]);
    assert_streams("day", &doc, &day_streams());
    assert_totals("day", &doc, Totals { verified: 10, failed: 4, not_distilled: 12, ..Default::default() });
    assert_eq!((by_code(&doc, "U1"), by_code(&doc, "U2"), by_code(&doc, "U5")), (1, 2, 1));
    for kind in ["scheduler.run_instance.start", "scheduler.run_instance.scheduled", "scheduler.run_instance.end"] {
        assert_eq!(doc["not_distilled_types"][kind], 4, "day: not distilled {kind}");
    }
    assert_eq!(code, 1, "a failed stream makes the exit status 1");
}

#[test]
fn day_failures_carry_an_explanation_of_their_code() {
    let (plain, _) = audit_json(&["samples/day.jsonl"]);
    assert!(
        plain["streams"].as_array().expect("streams").iter().all(|s| s.get("explanation").is_none()),
        "explanations are added on request"
    );
    let (doc, _) = audit_json(&["samples/day.jsonl", "--explain"]);
    for s in doc["streams"].as_array().expect("streams") {
        if s["outcome"] == "verified" {
            continue;
        }
        let x = &s["explanation"];
        assert_eq!(x["code"], s["code"], "stream {}: explanation code", s["stream_id"]);
        assert_eq!(x["message"], s["message"], "stream {}: explanation message", s["stream_id"]);
        assert!(
            x["evidence"].as_array().is_some_and(|e| !e.is_empty()),
            "stream {}: the explanation names the events that prove it",
            s["stream_id"]
        );
    }
}

#[test]
fn day_table_snapshot() {
    let r = run(&["audit", "samples/day.jsonl"]);
    assert_eq!(r.code, 1);
    // The whole report, summary included, fits an 80-column terminal, with and without explanations.
    for line in r.stdout.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line:?}");
    }
    let explained = run(&["audit", "--explain", "samples/day.jsonl"]);
    for line in explained.stdout.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns with --explain: {line:?}");
    }
    insta::assert_snapshot!("day_table", r.stdout);
}

#[test]
fn day_no_drain_leaves_the_last_stream_pending() {
    let (doc, code) = audit_json(&["--no-drain", "samples/day.jsonl"]);
    let mut want = day_streams();
    // build-f7's .exists is the last notification: nothing moves the clock past it.
    want[4] = pending(5, DAY_BUILD_F7, DAY, 5);
    assert_streams("day --no-drain", &doc, &want);
    assert_totals(
        "day --no-drain",
        &doc,
        Totals { verified: 10, failed: 3, pending: 1, not_distilled: 12, ..Default::default() },
    );
    assert_eq!(code, 1);
}

#[test]
fn day_csv_parses_with_the_documented_header() {
    let r = run(&["audit", "--format", "csv", "samples/day.jsonl"]);
    assert_eq!(r.code, 1);
    let mut reader = csv::Reader::from_reader(r.stdout.as_bytes());
    let header: Vec<String> = reader.headers().expect("a header").iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "stream_id",
            "instance_id",
            "day",
            "state",
            "trigger",
            "outcome",
            "code",
            "message",
            "event_count",
            "first_event",
            "last_event"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("well-formed rows");
    let want = day_streams();
    assert_eq!(rows.len(), want.len());
    for (row, s) in rows.iter().zip(&want) {
        assert_eq!(&row[0], s.id.to_string(), "csv stream_id");
        assert_eq!(&row[1], s.instance, "csv instance_id");
        assert_eq!(&row[2], s.day);
        assert_eq!(&row[3], s.state);
        assert_eq!(&row[4], s.trigger.unwrap_or(""));
        assert_eq!(&row[5], s.outcome);
        assert_eq!(&row[6], s.code.unwrap_or(""));
        // U5's message holds a comma: it must come back whole.
        assert_eq!(&row[7], s.message, "csv message of stream {}", s.id);
        assert_eq!(&row[8], s.events.to_string());
    }
    assert_eq!(&rows[7][9], "2014-10-07T14:02:09.361207Z", "first_event of the resized instance");
    assert_eq!(&rows[7][10], "2014-10-08T00:21:33.064829Z", "last_event: its end-of-day .exists");
}

// ---- one sample per code ------------------------------------------------------------------------

/// A sample with one stream: that stream, the totals, the exit status.
fn single(file: &str, want: S, totals: Totals) {
    let (doc, code) = audit_json(&[file]);
    let expect_exit = if want.outcome == "verified" { 0 } else { 1 };
    assert_streams(file, &doc, &[want]);
    assert_totals(file, &doc, totals);
    assert_eq!(code, expect_exit, "{file}: exit status");
}

fn one_failure() -> Totals {
    Totals { failed: 1, ..Default::default() }
}

#[test]
fn u0_expired_without_exists() {
    let mut s = failed(1, "f3a3c571-7476-4899-b5a3-adb3254a9493", "U0", 8, "No .exists record.");
    s.trigger = Some("expire");
    single("samples/u0-expired-without-exists.jsonl", s, one_failure());
}

#[test]
fn u1_exists_without_launched_at() {
    single(
        "samples/u1-exists-without-launched-at.jsonl",
        failed(1, "e88b7591-31db-4e32-98dc-b35f94c662cd", "U1", 5, ".exists has no launched_at value."),
        Totals { failed: 1, not_distilled: 3, ..Default::default() },
    );
}

#[test]
fn u2_resize_changes_flavor() {
    single(
        "samples/u2-resize-changes-flavor.jsonl",
        failed(
            1,
            "5bb58492-9daf-46be-ad21-914625ee8c4c",
            "U2",
            12,
            "Conflicting 'launched_at' values ('2014-10-07 14:09:47.232402' != '2014-05-19 08:41:26')",
        ),
        one_failure(),
    );
}

#[test]
fn u3_deleted_at_but_state_active() {
    single(
        "samples/u3-deleted-at-but-state-active.jsonl",
        failed(
            1,
            "ef2843ff-74cf-46a6-b6dc-0914faa30751",
            "U3",
            3,
            ".exists state not 'deleted' but deleted_at is set.",
        ),
        one_failure(),
    );
}

#[test]
fn u4_deleted_before_launched_and_the_next_day() {
    let file = "samples/u4-deleted-before-launched.jsonl";
    let id = "32a7cae9-df32-4560-8500-2635f5bffffb";
    let (doc, code) = audit_json(&[file]);
    let mut next_day = failed(2, id, "U0", 3, "No .exists record.");
    next_day.day = "2014-10-08";
    next_day.trigger = Some("expire");
    assert_streams(file, &doc, &[failed(1, id, "U4", 8, ".exists deleted_at < launched_at."), next_day]);
    assert_totals(file, &doc, Totals { failed: 2, ..Default::default() });
    assert_eq!(code, 1);
}

#[test]
fn u4_no_drain_leaves_both_streams_pending() {
    let file = "samples/u4-deleted-before-launched.jsonl";
    let id = "32a7cae9-df32-4560-8500-2635f5bffffb";
    let (doc, code) = audit_json(&["--no-drain", file]);
    assert_streams(file, &doc, &[pending(1, id, DAY, 8), pending(2, id, "2014-10-08", 3)]);
    assert_totals(file, &doc, Totals { pending: 2, ..Default::default() });
    // `audit --help`: 1 only when a stream failed or errored; pending ones are neither.
    assert_eq!(code, 0);
}

#[test]
fn u5_deleted_without_delete_event() {
    single(
        "samples/u5-deleted-without-delete-event.jsonl",
        failed(
            1,
            "94aa3bff-595f-46ff-9761-1f4ee0cb1e6b",
            "U5",
            5,
            ".exists deleted_at in audit period, but no matching .delete event found.",
        ),
        one_failure(),
    );
}

#[test]
fn u6_delete_event_but_no_deleted_at() {
    single(
        "samples/u6-delete-event-but-no-deleted-at.jsonl",
        failed(
            1,
            "7aaf4542-e6ae-4c3c-ba6b-b9c4b5ef5e70",
            "U6",
            7,
            ".deleted events found but .exists has no deleted_at value.",
        ),
        one_failure(),
    );
}

#[test]
fn u7_multiple_delete_ends() {
    single(
        "samples/u7-multiple-delete-ends.jsonl",
        failed(1, "c42e1ca0-94cf-4aba-9eab-cba13f19711e", "U7", 10, "Multiple .delete.end events"),
        one_failure(),
    );
}

#[test]
fn u8_launched_today_no_other_events() {
    single(
        "samples/u8-launched-today-no-other-events.jsonl",
        failed(
            1,
            "15bf60ec-d0cd-49f3-b71e-45122169c619",
            "U8",
            1,
            ".exists launched_at in audit period, but no related events found.",
        ),
        one_failure(),
    );
}

#[test]
fn error_missing_os_distro() {
    let s = S {
        id: 1,
        instance: "733611da-7593-4e8d-baa0-c8cd4792c102",
        day: DAY,
        state: "error",
        trigger: Some("fire"),
        outcome: "error",
        code: None,
        events: 5,
        message: "'os_distro' is on compute.instance.exists (msg 933a2f23-86ae-44eb-b4bc-9af9c8b4a70e) \
                  but not on compute.instance.create.end (msg 274112b6-5cf1-44c7-ac78-4eb324f011e1)",
    };
    single("samples/error-missing-os-distro.jsonl", s, Totals { error: 1, ..Default::default() });
    // A failed pipeline rolls back: nothing is emitted.
    let r = run(&["emit", "samples/error-missing-os-distro.jsonl"]);
    assert_eq!((r.stdout.as_str(), r.code), ("", 0));
}

#[test]
fn verified_quiet_day() {
    let (doc, code) = audit_json(&["samples/verified-quiet-day.jsonl"]);
    assert_streams(
        "quiet",
        &doc,
        &[
            verified(1, "804ea4fe-6aaf-4415-8b58-96ec1332a650", 5),
            verified(2, "8eebf2bd-ee48-4e67-a836-9272fe5976d9", 5),
            verified(3, "8755edd5-0354-40c3-a1dd-9f94712a0eda", 5),
            verified(4, "cb6e16b3-6356-4e6e-bdae-c44eef2bcaab", 1),
        ],
    );
    assert_totals("quiet", &doc, Totals { verified: 4, ..Default::default() });
    assert_eq!(code, 0, "every stream verified: exit status 0");
}

#[test]
fn resize_across_midnight_fails_the_day_before_and_verifies_the_day_after() {
    let inst = "946dd889-aa84-46d2-953d-50bd7b32fabb";
    let (doc, code) = audit_json(&["samples/resize-across-midnight.jsonl", "--explain"]);
    let mut before = failed(
        1,
        inst,
        "U2",
        8,
        "Conflicting 'launched_at' values ('2014-10-07 00:00:32.779864' != '2014-06-17 13:27:50')",
    );
    before.day = "2014-10-06";
    assert_streams("resize", &doc, &[before, verified(2, inst, 5)]);
    assert_totals("resize", &doc, Totals { verified: 1, failed: 1, ..Default::default() });
    assert_eq!(code, 1);
    // The verified day says that its finish_resize.end was not compared, and cites it.
    let x = &doc["streams"][1]["explanation"];
    assert_eq!(x["outcome"], "verified");
    assert_eq!(x["title"], "verified, but a finish_resize.end was not compared");
    let cited: Vec<&str> =
        x["evidence"].as_array().expect("evidence").iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(cited, ["compute.instance.exists", "compute.instance.finish_resize.end"]);
    assert!(
        x["next_steps"][0].as_str().is_some_and(|s| s.starts_with("Nothing to do for this day")),
        "the resize's outcome agrees with the .exists: {x}"
    );
}

// ---- input problems and layouts -----------------------------------------------------------------

#[test]
fn bad_records_are_counted_and_the_rest_verifies() {
    let file = "samples/bad-records.jsonl";
    let (doc, code) = audit_json(&[file]);
    assert_streams(
        file,
        &doc,
        &[
            verified(1, "ebd05eb7-3677-44a5-b2df-6035d3c17334", 5),
            verified(2, "6bf0ed49-b2aa-426a-b190-912ea13614ae", 4),
        ],
    );
    assert_totals(
        file,
        &doc,
        Totals { verified: 2, unmatched: 1, duplicates: 2, not_distilled: 3, rejected: 5, ..Default::default() },
    );
    let rejected: Vec<(String, String)> = doc["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| (r["source"].as_str().unwrap_or("").to_string(), r["reason"].as_str().unwrap_or("").to_string()))
        .collect();
    let want = [
        ("samples/bad-records.jsonl:3", "invalid JSON at column 312: EOF while parsing a string"),
        ("samples/bad-records.jsonl:7", "invalid JSON at column 5: trailing characters"),
        ("samples/bad-records.jsonl:8", "payload.launched_at: not a datetime: \"None\""),
        ("samples/bad-records.jsonl:14", "payload.instance_type_id: not an integer: \"performance1-4\""),
        ("samples/bad-records.jsonl:16", "no message_id"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(rejected, want);
    for r in doc["rejected"].as_array().expect("rejected") {
        let excerpt = r["excerpt"].as_str().expect("an excerpt");
        assert!(!excerpt.is_empty() && excerpt.len() <= 200, "excerpt of {}: {excerpt:?}", r["source"]);
    }
    for kind in ["scheduler.run_instance.start", "scheduler.run_instance.scheduled", "scheduler.run_instance.end"] {
        assert_eq!(doc["not_distilled_types"][kind], 1, "not distilled {kind}");
    }
    assert_eq!(code, 0, "rejected records are reported, not failures");
}

#[test]
fn mixed_layouts_make_one_archive() {
    let (doc, code) = audit_json(&["samples/mixed-layouts"]);
    assert_streams(
        "mixed-layouts",
        &doc,
        &[
            verified(1, "b007b8e9-ec82-4a77-ac70-78349a50a498", 5),
            verified(2, "d0c5e1a2-3b4f-4e6a-8c7d-9e0f1a2b3c4d", 5),
            verified(3, "63df6727-06f3-4b77-b46d-5afe86bade2b", 7),
        ],
    );
    assert_totals("mixed-layouts", &doc, Totals { verified: 3, ..Default::default() });
    assert_eq!(code, 0);
}

// ---- events and emit ----------------------------------------------------------------------------

fn expected(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn events_match_the_committed_expectations() {
    for (input, name) in [
        ("samples/day.jsonl", "day"),
        ("samples/bad-records.jsonl", "bad-records"),
        ("samples/u2-resize-changes-flavor.jsonl", "u2-resize-changes-flavor"),
        ("samples/mixed-layouts", "mixed-layouts"),
    ] {
        let r = run(&["events", input]);
        assert_eq!(r.code, 0, "events {input}");
        let want = expected(&format!("{name}.events.jsonl"));
        assert!(r.stdout == want, "events {input} differs from tests/golden/{name}.events.jsonl");
    }
}

#[test]
fn events_report_rejected_records_on_stderr_with_file_and_line() {
    let r = run(&["events", "samples/bad-records.jsonl"]);
    assert!(
        r.stderr.contains("rejected samples/bad-records.jsonl:14: payload.instance_type_id: not an integer"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().filter(|l| l.contains("rejected")).count(), 5, "{}", r.stderr);
}

#[test]
fn emit_matches_the_committed_expectations_and_is_stable() {
    for (input, name) in [
        ("samples/day.jsonl", "day"),
        ("samples/bad-records.jsonl", "bad-records"),
        ("samples/verified-quiet-day.jsonl", "verified-quiet-day"),
        ("samples/u4-deleted-before-launched.jsonl", "u4-deleted-before-launched"),
        ("samples/resize-across-midnight.jsonl", "resize-across-midnight"),
        ("samples/mixed-layouts", "mixed-layouts"),
    ] {
        let first = run(&["emit", input]);
        assert_eq!(first.code, 0, "emit {input}");
        assert_eq!(first.stdout, expected(&format!("{name}.emit.jsonl")), "emit {input}");
        let second = run(&["emit", input]);
        assert_eq!(first.stdout, second.stdout, "emit {input}: the same ids on every run");
    }
}

#[test]
fn emit_ids_are_version_5_of_the_exists_id() {
    // The .exists of stage-db-01 in day.jsonl, and the failure it leads to.
    let exists = uuid::Uuid::parse_str("e187def1-4d45-4be3-ab7a-3d0752204810").expect("a UUID");
    let out = run(&["emit", "samples/day.jsonl"]);
    let line = out.stdout.lines().find(|l| l.contains(DAY_STAGE_DB)).expect("stage-db-01 has an output event");
    let v: Value = serde_json::from_str(line).expect("JSON");
    assert_eq!(v["event_type"], "compute.instance.exists.failed");
    assert_eq!(v["error_code"], "U2");
    let want = uuid::Uuid::new_v5(&exists, b"compute.instance.exists.failed");
    assert_eq!(v["message_id"], want.to_string());
    assert_eq!(want.get_version_num(), 5);
}

#[test]
fn emit_random_ids_differ_between_runs() {
    let parse = |s: &str| -> Vec<Value> { s.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect() };
    let stable = parse(&run(&["emit", "samples/day.jsonl"]).stdout);
    let a = parse(&run(&["emit", "--random-ids", "samples/day.jsonl"]).stdout);
    let b = parse(&run(&["emit", "--random-ids", "samples/day.jsonl"]).stdout);
    assert_eq!(a.len(), 14);
    assert_eq!((a.len(), b.len()), (stable.len(), stable.len()));
    for ((x, y), s) in a.iter().zip(&b).zip(&stable) {
        assert_ne!(x["message_id"], y["message_id"], "random ids differ between runs");
        assert_ne!(x["message_id"], s["message_id"], "random ids are not the stable ones");
        let id = uuid::Uuid::parse_str(x["message_id"].as_str().expect("a string")).expect("a UUID");
        assert_eq!(id.get_version_num(), 4, "random ids are version 4");
        // Everything but the id is the same.
        let strip = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().expect("an object").remove("message_id");
            v
        };
        assert_eq!(strip(x), strip(s));
    }
}

// ---- exit status --------------------------------------------------------------------------------

#[test]
fn exit_status_two_when_the_command_cannot_run() {
    let r = run(&["audit", "samples/no-such-file.jsonl"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no readable input"), "{}", r.stderr);
    assert!(r.stderr.contains("samples/no-such-file.jsonl"), "names the path: {}", r.stderr);
    assert!(r.stdout.is_empty());

    let r = run(&["audit", "--format", "xml", "samples/day.jsonl"]);
    assert_eq!(r.code, 2, "bad argument");
    assert!(r.stderr.contains("xml"), "{}", r.stderr);

    let r = run(&["audit"]);
    assert_eq!(r.code, 2, "no path");
    assert!(!r.stderr.is_empty());

    let r = run(&["audit", "--code", "U9", "samples/day.jsonl"]);
    assert_eq!(r.code, 2, "unknown code");
    assert!(r.stderr.contains("U9"), "{}", r.stderr);
}

// ---- the whole directory ------------------------------------------------------------------------

/// `audit samples` shows the samples' verdicts and only the problems samples/README.md lists
/// under "All the samples at once".
#[test]
fn the_samples_directory_opens_clean() {
    let (doc, code) = audit_json(&["samples"]);
    assert_eq!(code, 1, "failures are the samples' point");
    assert_totals(
        "samples",
        &doc,
        Totals {
            verified: 21,
            failed: 16,
            error: 2,
            unmatched: 11,
            duplicates: 2,
            not_distilled: 18,
            rejected: 5,
            ..Default::default()
        },
    );
    for code in ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8"] {
        assert!(by_code(&doc, code) > 0, "samples show {code}");
    }
    assert_eq!(by_code(&doc, "U0"), 3);
    assert!(doc["rejected"]
        .as_array()
        .expect("a list")
        .iter()
        .all(|r| r["source"].as_str().is_some_and(|s| s.starts_with("samples/bad-records.jsonl:"))));
    assert_eq!(doc["skipped"], serde_json::json!([]), "the README is no archive, and not worth a word");
    let inputs = doc["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 22);
    assert!(inputs.iter().all(|i| i["records"].as_u64() > Some(0) && i["events"].as_u64() > Some(0)));
    assert!(inputs.iter().all(|i| !i["path"].as_str().unwrap_or("").contains("expected")));
    let r = run(&["audit", "samples"]);
    assert!(
        r.stdout.contains("\n236 events, 11 unmatched, 2 duplicates, 18 not distilled, 5 rejected\n"),
        "{}",
        r.stdout
    );
}

/// A sample side by side: the one stream's 2014 outcome and code, its 2015
/// counterpart's outcome, code and message, its warnings, and the triage label.
fn side_by_side(
    file: &str,
    y2014: (&str, Option<&str>),
    y2015: (&str, Option<&str>, &str),
    warnings: usize,
    triage: &str,
) -> Value {
    let (doc, code) = audit_json(&["--rules", "both", file]);
    assert_eq!(doc["rules"], "both");
    let s = &doc["streams"][0];
    assert_eq!(doc["streams"].as_array().map(Vec::len), Some(1), "{file}");
    assert_eq!((s["outcome"].as_str(), s["code"].as_str()), (Some(y2014.0), y2014.1), "{file}");
    let o = &s["other"];
    assert_eq!(o["rules"], "2015");
    assert_eq!(
        (o["outcome"].as_str(), o["code"].as_str(), o["message"].as_str()),
        (Some(y2015.0), y2015.1, Some(y2015.2)),
        "{file}"
    );
    assert_eq!(o["warnings"].as_array().map(Vec::len), Some(warnings), "{file}");
    assert_eq!(s["triage"], triage, "{file}");
    assert_eq!(doc["summary"]["by_triage"][triage], 1, "{file}");
    assert_eq!(code, i32::from(triage != "agreed"), "{file}");
    doc
}

const RESIZE_U2: &str = "Conflicting 'launched_at' values ('2014-10-07 14:09:47.232402' != '2014-05-19 08:41:26')";

#[test]
fn same_day_resize_is_a_2014_false_alarm_that_2015_verifies() {
    side_by_side(
        "samples/u2-resize-changes-flavor.jsonl",
        ("failed", Some("U2")),
        ("verified", None, ""),
        1,
        "2014-only",
    );
    // Its non-EOD .exists, sent just before the resize, is the 2015 warning.
    let (doc, code) = audit_json(&["--rules", "2015", "samples/u2-resize-changes-flavor.jsonl"]);
    assert_eq!(code, 0, "a warning is not a failure");
    let s = &doc["streams"][0];
    assert_eq!(
        s["warnings"][0],
        "Non-EOD .exists found (msg_id: d6621f80-8044-485d-a5fc-7f5c711556cc) with no operation event."
    );
    let outcomes: Vec<&str> = s["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["verified", "verified"]);
    let r = run(&["audit", "--rules", "both", "samples/u2-resize-changes-flavor.jsonl"]);
    insta::assert_snapshot!("side_by_side_2014_only_table", r.stdout);
}

#[test]
fn a_stale_exists_after_a_resize_fails_only_under_2015() {
    side_by_side(
        "samples/rules2015-stale-exists-after-resize.jsonl",
        ("verified", None),
        ("failed", Some("U2"), RESIZE_U2),
        1,
        "2015-only",
    );
}

#[test]
fn a_lost_exists_leaves_a_trailing_block_u0() {
    let doc = side_by_side(
        "samples/rules2015-lost-exists-trailing-u0.jsonl",
        ("failed", Some("U0")),
        ("failed", Some("U0"), "Notifications, but no .exists notification found."),
        1,
        "confirmed",
    );
    assert_eq!(doc["streams"][0]["message"], "No .exists record.");
    let (doc, _) = audit_json(&["--rules", "2015", "samples/rules2015-lost-exists-trailing-u0.jsonl"]);
    let results = doc["streams"][0]["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2, "the non-EOD .exists, then the trailing block");
    assert_eq!(results[1]["exists_message_id"], Value::Null);
    assert_eq!(results[1]["code"], "U0");
}

#[test]
fn terminated_at_stands_in_for_a_missing_deleted_at_under_2015() {
    side_by_side("samples/rules2015-terminated-at.jsonl", ("error", None), ("verified", None, ""), 0, "error");
}

#[test]
fn triage_filters_the_report() {
    let (doc, code) =
        audit_json(&["--rules", "both", "--triage", "confirmed", "samples/u2-resize-changes-flavor.jsonl"]);
    assert_eq!(doc["streams"].as_array().map(Vec::len), Some(0));
    assert_eq!(code, 1, "the status still covers every stream");
    let r = run(&["audit", "--triage", "confirmed", "samples/day.jsonl"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--triage needs --rules both"), "{}", r.stderr);
    let r = run(&["audit", "--rules", "both", "--triage", "maybe", "samples/day.jsonl"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown triage label \"maybe\""), "{}", r.stderr);
}

#[test]
fn emit_under_2015_writes_warnings_then_results() {
    let r = run(&["emit", "--rules", "2015", "samples/u2-resize-changes-flavor.jsonl"]);
    let types: Vec<String> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["event_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "compute.instance.exists.warnings",
            "compute.instance.exists.verified",
            "compute.instance.exists.warnings",
            "compute.instance.exists.verified"
        ]
    );
    let result: Value = serde_json::from_str(r.stdout.lines().nth(1).unwrap()).unwrap();
    assert_eq!(result["publisher_id"], "stv3");
    assert_eq!(result["original_message_id"], "d6621f80-8044-485d-a5fc-7f5c711556cc");
    assert_eq!(result["rax_options"], "0");
    assert_eq!(result["instance_flavor_id"], 6);
}

#[test]
fn an_instance_only_2015_can_see_is_listed_apart() {
    // Nova named the instance `instance_uuid`: the 2014 trait table finds no instance id, so the
    // 2014 side has no stream at all; the 2015 stream (a resize revert, U2) has no counterpart.
    let file = "samples/rules2015-instance-uuid-only.jsonl";
    let (doc, code) = audit_json(&["--rules", "both", file]);
    assert_eq!(doc["streams"].as_array().map(Vec::len), Some(0));
    let rows = doc["other_unpaired"].as_array().expect("other_unpaired");
    assert_eq!(rows.len(), 1);
    let o = &rows[0];
    assert_eq!(o["rules"], "2015");
    assert_eq!(o["stream_id"], 1);
    assert_eq!(o["instance_id"], "4ec2c914-800a-4792-acec-3cc0f3b1d968");
    assert_eq!(o["day"], "2014-10-07");
    assert_eq!((o["outcome"].as_str(), o["code"].as_str()), (Some("failed"), Some("U2")));
    assert_eq!(
        o["message"],
        "Conflicting 'launched_at' values ('2014-10-07 18:16:26.816124' != '2014-10-07 18:56:10.545803')"
    );
    assert_eq!(o["triage"], "2015-only");
    assert_eq!(o["event_count"], 10);
    assert_eq!(doc["summary"]["other_unpaired"]["2015-only"], 1);
    assert_eq!(doc["summary"]["by_triage"]["2015-only"], 0, "by_triage counts the 2014 streams");
    assert_eq!(doc["summary"]["unmatched"], 10, "2014 leaves every event unmatched");
    assert_eq!(code, 1, "a 2015-only failure is worth a look");

    // Filters apply to these rows by their own outcome and label.
    let (doc, _) = audit_json(&["--rules", "both", "--triage", "agreed", file]);
    assert_eq!(doc["other_unpaired"].as_array().map(Vec::len), Some(0));
    let (doc, _) = audit_json(&["--rules", "both", "--triage", "2015-only", "--explain", file]);
    let why = doc["other_unpaired"][0]["why"].as_str().expect("why with --explain");
    assert!(why.starts_with("2014 has no stream of this instance at all"), "{why}");
    assert!(why.ends_with("only the 2015 audit sees this failure."), "{why}");

    let r = run(&["audit", "--rules", "both", file]);
    insta::assert_snapshot!("side_by_side_unpaired_table", r.stdout);
    let r = run(&["audit", "--rules", "both", "--format", "csv", file]);
    assert_eq!(
        r.stdout.lines().nth(1),
        Some(",4ec2c914-800a-4792-acec-3cc0f3b1d968,2014-10-07,,,,,,,,,2015-only,failed U2")
    );
}

//! The report an operator pastes into a ticket: the inputs, the unmatched and
//! duplicate records, each stream's tenant, the filters at load, and a table
//! that never splits a path or an id.

mod common;
use common::{run, run_in};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let r = run(args);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", r.stdout))
}

/// The keys of an object, in order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap_or_else(|| panic!("an object: {v}")).keys().map(String::as_str).collect()
}

#[test]
fn json_schema_of_the_ticket_fields() {
    let doc = json(&["audit", "--format", "json", "samples/bad-records.jsonl"]);
    assert_eq!(
        keys(&doc),
        [
            "streams",
            "summary",
            "inputs",
            "skipped",
            "unmatched",
            "duplicates",
            "not_distilled",
            "not_distilled_types",
            "rejected"
        ]
    );
    let stream = &doc["streams"][0];
    assert_eq!(
        keys(stream),
        [
            "stream_id",
            "instance_id",
            "tenant_id",
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
    assert_eq!(stream["tenant_id"], "731323");
    // The counts stay in the summary; the records are listed.
    assert_eq!(doc["summary"]["unmatched"], 1);
    assert_eq!(doc["summary"]["duplicates"], 2);
    assert_eq!(
        doc["inputs"],
        serde_json::json!([{
            "path": "samples/bad-records.jsonl", "layout": "jsonl", "records": 20, "events": 10, "rejected": 5
        }])
    );
    assert_eq!(
        doc["unmatched"],
        serde_json::json!([{
            "message_id": "33d11ec0-0253-4b7c-8d06-105146690ea5",
            "event_type": "compute.instance.exists.verified",
            "timestamp": "2014-10-08T00:03:12.004416Z",
            "source": "samples/bad-records.jsonl:18"
        }])
    );
    let dups: Vec<(&str, &str)> = doc["duplicates"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            assert_eq!(keys(d), ["message_id", "event_type", "timestamp", "source"]);
            (d["event_type"].as_str().expect("a type"), d["source"].as_str().expect("a source"))
        })
        .collect();
    assert_eq!(
        dups,
        [
            ("compute.instance.reboot.start", "samples/bad-records.jsonl:6"),
            ("compute.instance.exists", "samples/bad-records.jsonl:20")
        ]
    );
    assert_eq!(doc["not_distilled"], 3, "still a number");
    assert_eq!(doc["skipped"], serde_json::json!([]));
}

#[test]
fn tenant_and_instance_filters_leave_other_events_out_at_load() {
    let all = json(&["audit", "--format", "json", "samples/day.jsonl"]);
    assert_eq!(all["streams"].as_array().map(Vec::len), Some(14));
    let one = json(&["audit", "--format", "json", "--tenant", "889673", "samples/day.jsonl"]);
    let streams: Vec<(&str, &str)> = one["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| (s["instance_id"].as_str().expect("id"), s["tenant_id"].as_str().expect("tenant")))
        .collect();
    assert_eq!(streams, [("b1afbd63-0d07-47be-a3ae-69644ec6039b", "889673")]);
    let two = json(&[
        "audit",
        "--format",
        "json",
        "--instance",
        "cfd8984b-de1c-472f-a763-7e0807d27934,041b22c2-b074-43a8-b17d-1960312382a7",
        "samples/day.jsonl",
    ]);
    let ids: Vec<&str> =
        two["streams"].as_array().expect("streams").iter().map(|s| s["instance_id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["cfd8984b-de1c-472f-a763-7e0807d27934", "041b22c2-b074-43a8-b17d-1960312382a7"]);
    // events and emit take them too.
    let r = run(&["events", "--tenant", "889673", "samples/day.jsonl"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.lines().count(), 12);
    assert!(r.stdout.lines().all(|l| l.contains("b1afbd63-0d07-47be-a3ae-69644ec6039b")));
    let r = run(&["emit", "--instance", "cfd8984b-de1c-472f-a763-7e0807d27934", "samples/day.jsonl"]);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    // The table says how many were left out; matching nothing is nothing to audit.
    let r = run(&["audit", "--tenant", "889673", "samples/day.jsonl"]);
    assert!(r.stdout.contains(", 62 left out by --instance/--tenant\n"), "{}", r.stdout);
    let r = run(&["audit", "--instance", "nope", "samples/day.jsonl"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr, "usage-replay: nothing to audit: none of the 74 events read matches --instance/--tenant\n");
}

#[test]
fn the_table_at_80_columns_never_splits_a_path_or_an_id() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let deep = "captures/region-one/nova-notifications/2014-10-07/compute-host-250.example.net";
    std::fs::create_dir_all(dir.path().join(deep)).expect("mkdir");
    let file = format!("{deep}/notifications.jsonl");
    let sample = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/bad-records.jsonl"))
        .expect("the sample");
    std::fs::write(dir.path().join(&file), sample).expect("write");
    // An instance id longer than the column.
    let long_id = "instance-with-a-name-much-longer-than-a-uuid-0001";
    let exists = serde_json::json!({
        "event_type": "compute.instance.exists", "timestamp": "2014-10-08 00:01:00",
        "message_id": "00000000-0000-4000-8000-0000000000aa",
        "payload": {"instance_id": long_id, "tenant_id": "t", "state": "active", "launched_at": "",
            "audit_period_beginning": "2014-10-07 00:00:00", "audit_period_ending": "2014-10-08 00:00:00"}
    });
    std::fs::write(dir.path().join("long.jsonl"), format!("{exists}\n")).expect("write");
    let r = run_in(dir.path(), &["audit", &file, "long.jsonl"], None);
    let words: Vec<&str> = r.stdout.split_whitespace().collect();
    for l in r.stdout.lines() {
        // A line is longer than 80 columns only when it holds one unbreakable word, or the row of a long id.
        assert!(l.chars().count() <= 80 || l.split_whitespace().count() == 1 || l.contains(long_id), "{l:?}");
    }
    assert!(words.contains(&long_id), "the id whole:\n{}", r.stdout);
    for line in [3, 7, 8, 14, 16] {
        let at = format!("{file}:{line}:");
        assert!(words.contains(&at.as_str()), "{at} whole:\n{}", r.stdout);
    }
}

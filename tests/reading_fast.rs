//! The fast reader of records and the exact one agree (docs/inputs.md#reading-fast): on every
//! record the fast reader takes, it keeps exactly what the exact reader keeps, and `parse_top`
//! gives what the exact reader gives on every text, hostile ones included.

use proptest::prelude::*;
use usage_replay::json::{fast, parse_top, parse_top_exact};

/// Keys the readers treat specially, and a few they do not.
const KEYS: &[&str] = &[
    "event_type",
    "message_id",
    "timestamp",
    "_context_timestamp",
    "publisher_id",
    "_context_request_id",
    "_context_project_id",
    "payload",
    "events",
    "exception",
    "instance",
    "kwargs",
    "uuid",
    "tenant_id",
    "instance_id",
    "instance_uuid",
    "memory_mb",
    "state",
    "launched_at",
    "image_meta",
    "bandwidth",
    "public",
    "bw_in",
    "bw_out",
    "org.openstack__1__os_distro",
    "com.rackspace__1__options",
    "instance_type_flavor_id",
    "deleted_at",
    "__type__",
    "datetime",
    "oslo.version",
    "x",
    "a\\u0062",
    "payload\\u0000",
    "\u{e9}t\u{e9}",
];

/// Number literals that readers get wrong: big integers, negative zero, floats that
/// round hard or lie beyond the double range.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "0.0",
    "1",
    "-1",
    "7.0",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "100000000000000000000000000000",
    "1e400",
    "-1e400",
    "1e-400",
    "2.2250738585072011e-308",
    "0.1",
    "1.7976931348623157e308",
    "9007199254740993",
    "9007199254740993.0",
    "1E5",
    "1e+5",
    "12.5e-3",
    "0.30000000000000004",
];

const STRINGS: &[&str] = &[
    "",
    "compute.instance.exists",
    "compute.host-1",
    "2014-10-06 10:00:00",
    "2014-10-06T10:00:00.123456",
    "i-1",
    "datetime",
    "__type__",
    "a__type__b",
    "\u{e9}\u{1F600}",
    "0123456789abcdefghij",
];

/// Strings the fast reader leaves to the exact one: escapes (a lone surrogate too), a raw tab.
const ESCAPED: &[&str] = &["a\\nb", "\\u00e9", "\\ud800", "\\\"", "tab\there"];

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(KEYS).prop_map(|k| format!("\"{k}\""))
}

fn sep() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["", "", "", " ", "\n", "\t", " \r\n "][..])
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(&["null", "true", "false"][..]).prop_map(str::to_string),
        2 => prop::sample::select(NUMBERS).prop_map(str::to_string),
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:e}")),
        6 => prop::sample::select(STRINGS).prop_map(|s| format!("\"{s}\"")),
        1 => prop::sample::select(ESCAPED).prop_map(|s| format!("\"{s}\"")),
        1 => prop::sample::select(KEYS).prop_map(|s| format!("\"{s}\"")),
    ]
}

fn value() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec((key(), sep(), inner.clone()), 0..6).prop_map(|m| {
                let members: Vec<String> = m.into_iter().map(|(k, s, v)| format!("{k}{s}:{s}{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
            prop::collection::vec((sep(), inner), 0..4).prop_map(|e| {
                let elems: Vec<String> = e.into_iter().map(|(s, v)| format!("{s}{v}{s}")).collect();
                format!("[{}]", elems.join(","))
            }),
        ]
    })
}

/// A record: mostly an object of the keys above, with a payload object at times; then,
/// now and again, damaged: cut short or with a stray byte put in.
fn record() -> impl Strategy<Value = Vec<u8>> {
    let members = prop::collection::vec((key(), sep(), value()), 0..10);
    let payload = prop::option::of(prop::collection::vec((key(), sep(), value()), 0..12));
    let top = (members, payload, sep()).prop_map(|(m, p, s)| {
        let mut members: Vec<String> = m.into_iter().map(|(k, s, v)| format!("{k}{s}:{s}{v}")).collect();
        if let Some(p) = p {
            let inner: Vec<String> = p.into_iter().map(|(k, s, v)| format!("{k}{s}:{s}{v}")).collect();
            members.push(format!("\"payload\":{s}{{{}}}", inner.join(&format!(",{s}"))));
        }
        format!("{s}{{{}}}{s}", members.join(","))
    });
    let any_top = prop_oneof![8 => top, 1 => value()];
    let damage = prop_oneof![
        6 => Just(None),
        1 => (any::<prop::sample::Index>(), Just(None)).prop_map(|(i, b)| Some((i, b))),
        2 => (any::<prop::sample::Index>(), prop::sample::select(&[b',', b'}', b']', b'\\', b'"', 0x01, 0xff, 0xc3, b' ', b'0', b'-', b'.', b'e'][..]).prop_map(Some))
            .prop_map(|(i, b)| Some((i, b))),
    ];
    (any_top, damage).prop_map(|(text, damage)| {
        let mut bytes = text.into_bytes();
        match damage {
            None => {}
            Some((i, None)) => bytes.truncate(i.index(bytes.len() + 1)),
            Some((i, Some(b))) => bytes.insert(i.index(bytes.len() + 1), b),
        }
        bytes
    })
}

fn exact(text: &[u8]) -> Result<String, String> {
    parse_top_exact(text).map(|t| format!("{t:?}")).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10000, ..ProptestConfig::default() })]

    #[test]
    fn the_fast_reader_keeps_what_the_exact_one_keeps(text in record()) {
        let want = exact(&text);
        if let Some(top) = fast::parse(&text) {
            prop_assert_eq!(Ok(format!("{top:?}")), want.clone(), "{}", String::from_utf8_lossy(&text));
        }
        let got = parse_top(&text).map(|t| format!("{t:?}")).map_err(|e| e.to_string());
        prop_assert_eq!(got, want, "{}", String::from_utf8_lossy(&text));
    }
}

/// A notification as the generator writes it is taken by the fast reader, and read as the
/// exact reader reads it; so is every plain record of the samples.
#[test]
fn plain_notifications_take_the_fast_path() {
    let mut taken = 0;
    for entry in std::fs::read_dir("samples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "jsonl") || path.ends_with("bad-records.jsonl") {
            continue;
        }
        for line in std::fs::read(&path).unwrap().split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Some(top) = fast::parse(line) {
                assert_eq!(Ok(format!("{top:?}")), exact(line), "{}", path.display());
                taken += 1;
            } else if !line.contains(&b'\\') {
                panic!("{}: not taken: {}", path.display(), String::from_utf8_lossy(line));
            }
        }
    }
    assert!(taken > 100, "{taken}");
}

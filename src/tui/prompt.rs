//! The `:` prompt (docs/ui.md#prompt: goto time, stream id, speed), parsed into the
//! typed [`Action`] it asks for; the app applies it like any key.

use super::action::Action;
use super::index::{Filter, SortKey};
use super::types::Seek;
use crate::time::parse_datetime;

/// What the prompt accepts, for error messages.
pub const USAGE: &str =
    "a time (2014-10-06 12:00, 12:00), +6h / -30m / +2d / -90s, #id, speed N, filter …, sort KEY, start, end";

/// The action a line typed at the `:` prompt asks for, or what is wrong with it.
pub fn parse(input: &str) -> Result<Action, String> {
    let s = input.trim();
    let (word, rest) = match s.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (s, ""),
    };
    match word.to_ascii_lowercase().as_str() {
        "" => return Err(format!("type {USAGE}")),
        "speed" => {
            let n = rest.trim_start_matches(['x', '×']);
            return n.parse::<u64>().map(Action::SetSpeed).map_err(|_| format!("not a speed: {rest:?} (1 … 86400)"));
        }
        "filter" => return Ok(Action::SetFilter(Filter::parse(rest))),
        "sort" => {
            let mut words = rest.split_whitespace();
            let key = words.next().unwrap_or("");
            let key = SortKey::parse(key)
                .ok_or_else(|| format!("sort by id, instance, day, outcome or events, not {key:?}"))?;
            let dir = match words.next() {
                None => None,
                Some("desc") => Some(true),
                Some("asc") => Some(false),
                Some(w) => return Err(format!("asc or desc, not {w:?}")),
            };
            return Ok(Action::SetSort(key, dir));
        }
        "goto" | "g" | "seek" if !rest.is_empty() => return parse(rest),
        "start" | "home" | "rewind" => return Ok(Action::Rewind),
        "end" | "drain" => return Ok(Action::Drain),
        "problems" | "rejected" | "unmatched" => return Ok(Action::ShowProblems),
        "rules" => return Ok(Action::SwitchRules),
        "help" => return Ok(Action::ToggleHelp),
        "q" | "quit" => return Ok(Action::Quit),
        _ => {}
    }
    if let Some(id) = s.strip_prefix('#') {
        return id.parse::<u32>().map(Action::SelectStream).map_err(|_| format!("not a stream id: {s:?}"));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u32>().map(Action::SelectStream).map_err(|_| format!("not a stream id: {s:?}"));
    }
    if s.starts_with(['+', '-']) {
        return relative(s).map(|us| Action::Seek(Seek::By(us)));
    }
    if let Some(t) = time_of_day(s) {
        return Ok(Action::Seek(Seek::TimeOfDay(t)));
    }
    parse_datetime(s).map(|t| Action::Seek(Seek::To(t))).map_err(|_| format!("not understood: {s:?}; type {USAGE}"))
}

/// `+6h`, `-30m`, `+2d`, `-90s`, or several units: `+1h30m`.
fn relative(s: &str) -> Result<i64, String> {
    let bad = || format!("not an offset: {s:?} (e.g. +6h, -30m, +2d, -90s, +1h30m)");
    let (sign, body) = match s.as_bytes().first() {
        Some(b'+') => (1i64, &s[1..]),
        Some(b'-') => (-1i64, &s[1..]),
        _ => return Err(bad()),
    };
    if body.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 7 * 86400,
            _ => return Err(bad()),
        };
        let n: i64 = num.parse().map_err(|_| bad())?;
        num.clear();
        total = n
            .checked_mul(unit * 1_000_000)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("offset too large: {s:?}"))?;
    }
    if !num.is_empty() {
        return Err(bad());
    }
    Ok(sign * total)
}

/// `HH:MM` or `HH:MM:SS[.ffffff]`, optionally ending in `Z`.
fn time_of_day(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    if s.len() < 5 || s.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    let t = parse_datetime(&format!("1970-01-01 {s}")).ok()?;
    Some(t.micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(parse("+6h"), Ok(Action::Seek(Seek::By(6 * 3600 * 1_000_000))));
        assert_eq!(parse("-30m"), Ok(Action::Seek(Seek::By(-30 * 60 * 1_000_000))));
        assert_eq!(parse("+2d"), Ok(Action::Seek(Seek::By(2 * 86400 * 1_000_000))));
        assert_eq!(parse("-90s"), Ok(Action::Seek(Seek::By(-90 * 1_000_000))));
        assert_eq!(parse("+1h30m"), Ok(Action::Seek(Seek::By(5400 * 1_000_000))));
        assert_eq!(parse("#123"), Ok(Action::SelectStream(123)));
        assert_eq!(parse("42"), Ok(Action::SelectStream(42)));
        assert_eq!(parse("speed 600"), Ok(Action::SetSpeed(600)));
        assert_eq!(parse("speed x60"), Ok(Action::SetSpeed(60)));
        assert_eq!(parse("12:30"), Ok(Action::Seek(Seek::TimeOfDay(45_000 * 1_000_000))));
        assert_eq!(
            parse("2014-10-06T12:00:00Z"),
            Ok(Action::Seek(Seek::To(parse_datetime("2014-10-06T12:00:00Z").unwrap())))
        );
        assert_eq!(parse("goto 2014-10-06"), Ok(Action::Seek(Seek::To(parse_datetime("2014-10-06").unwrap()))));
        assert_eq!(parse("sort outcome desc"), Ok(Action::SetSort(SortKey::Outcome, Some(true))));
        assert_eq!(parse("end"), Ok(Action::Drain));
        assert_eq!(parse("start"), Ok(Action::Rewind));
        assert_eq!(parse("problems"), Ok(Action::ShowProblems));
        assert_eq!(parse("help"), Ok(Action::ToggleHelp));
        assert_eq!(parse("quit"), Ok(Action::Quit));
        assert_eq!(parse("filter U2"), Ok(Action::SetFilter(Filter::parse("U2"))));
        for bad in ["+", "+6x", "+h", "yesterday", "speed fast", "#x", "sort color", ""] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}

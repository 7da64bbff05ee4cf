//! Event time: UTC instants with microsecond precision, the datetime forms the
//! original distiller accepted (docs/distillation.md#datetimes), and the ways they are written back out.
//!
//! A [`Timestamp`] is a count of microseconds since the Unix epoch. Parsing is
//! hand-written because it sits on the hot path of every notification; the
//! calendar arithmetic is chrono's.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use std::fmt;

const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A UTC instant, microseconds since 1970-01-01T00:00:00Z.
///
/// `Timestamp::MAX` stands for "+infinity", the clock value of a drain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// A time as text through the formatting machinery, for any year: date, `sep`, time to the
/// microsecond, `zone` (ISO 8601 with `T` and `Z`; [`Timestamp::write_iso`] writes the usual
/// four-digit years itself).
fn write_datetime(d: NaiveDateTime, sep: char, zone: &str, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}.{:06}{zone}",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.nanosecond() / 1000
    );
}

impl Timestamp {
    /// The clock after a drain (docs/streams.md#replay: `advance(+infinity)`).
    pub const MAX: Timestamp = Timestamp(i64::MAX);
    pub const MIN: Timestamp = Timestamp(i64::MIN);

    pub fn from_micros(us: i64) -> Self {
        Timestamp(us)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn is_infinite(self) -> bool {
        self == Self::MAX || self == Self::MIN
    }

    /// `self + days`, saturating (so `MAX` stays infinite).
    pub fn plus_days(self, days: i64) -> Self {
        Timestamp(self.0.saturating_add(days.saturating_mul(MICROS_PER_DAY)))
    }

    pub fn plus_micros(self, us: i64) -> Self {
        Timestamp(self.0.saturating_add(us))
    }

    /// The UTC calendar day this instant falls on.
    pub fn day(self) -> Day {
        Day(self.0.div_euclid(MICROS_PER_DAY) as i32)
    }

    /// Microseconds since the start of the UTC day.
    pub fn micros_of_day(self) -> i64 {
        self.0.rem_euclid(MICROS_PER_DAY)
    }

    pub fn is_midnight(self) -> bool {
        self.micros_of_day() == 0
    }

    fn naive(self) -> Option<NaiveDateTime> {
        chrono::DateTime::from_timestamp_micros(self.0).map(|d| d.naive_utc())
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: how reports and `events` write datetimes (docs/distillation.md#datetimes).
    pub fn iso(self) -> String {
        let mut s = String::with_capacity(27);
        self.write_iso(&mut s);
        s
    }

    pub fn write_iso(self, out: &mut String) {
        match self.naive() {
            // Most years have four digits: written digit by digit, as the format below would.
            Some(d) if (0..=9999).contains(&d.year()) && d.nanosecond() < 1_000_000_000 => {
                let mut b = *b"0000-00-00T00:00:00.000000Z";
                let mut put = |at: usize, width: usize, mut v: u32| {
                    for k in (at..at + width).rev() {
                        b[k] = b'0' + (v % 10) as u8;
                        v /= 10;
                    }
                };
                put(0, 4, d.year() as u32);
                put(5, 2, d.month());
                put(8, 2, d.day());
                put(11, 2, d.hour());
                put(14, 2, d.minute());
                put(17, 2, d.second());
                put(20, 6, d.nanosecond() / 1000);
                out.push_str(std::str::from_utf8(&b).unwrap_or_default());
            }
            Some(d) => write_datetime(d, 'T', "Z", out),
            None => out.push_str(if self.0 > 0 { "+infinity" } else { "-infinity" }),
        }
    }

    /// Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS`, with `.ffffff` only when
    /// the microseconds are not zero. Used in the U2 messages (docs/checks.md#usage-checks).
    pub fn python_str(self) -> String {
        match self.naive() {
            Some(d) => {
                let us = d.nanosecond() / 1000;
                let base = format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    d.year(),
                    d.month(),
                    d.day(),
                    d.hour(),
                    d.minute(),
                    d.second()
                );
                if us == 0 {
                    base
                } else {
                    format!("{base}.{us:06}")
                }
            }
            None => self.iso(),
        }
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff`, UTC without a zone: the time-sync wire format
    /// that Winchester's `TimeSync` parses (docs/timesync.md#protocol).
    pub fn wire(self) -> String {
        match self.naive() {
            Some(d) => {
                let mut out = String::with_capacity(26);
                write_datetime(d, ' ', "", &mut out);
                out
            }
            None => self.iso(),
        }
    }

    /// `YYYY-MM-DD HH:MM:SS` with an explicit `Z`, for compact display.
    pub fn short(self) -> String {
        match self.naive() {
            Some(d) => format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
                d.year(),
                d.month(),
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            ),
            None => {
                if self.0 > 0 {
                    "+inf".to_string()
                } else {
                    "-inf".to_string()
                }
            }
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

/// A UTC calendar day, counted from 1970-01-01.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Day(pub i32);

impl Day {
    pub fn start(self) -> Timestamp {
        Timestamp(self.0 as i64 * MICROS_PER_DAY)
    }

    pub fn next(self) -> Day {
        Day(self.0 + 1)
    }

    fn date(self) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(self.0.checked_add(UNIX_EPOCH_DAYS_FROM_CE)?)
    }

    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Day> {
        NaiveDate::from_ymd_opt(y, m, d).map(|n| Day(n.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE))
    }

    /// Parse `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = digits(&b[0..4])? as i32;
        let m = digits(&b[5..7])?;
        let d = digits(&b[8..10])?;
        Day::from_ymd(y, m, d)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.date() {
            Some(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            None => write!(f, "day{}", self.0),
        }
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

fn digits(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Why a datetime could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateTimeError {
    Syntax,
    OutOfRange,
}

/// Parse a datetime in one of the forms of docs/distillation.md#datetimes:
/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fraction]]`, the same with `T`, then
/// optionally `Z`, `±HH:MM`, `±HHMM` or `±HH`. No zone means UTC; an offset is
/// converted to UTC; fraction digits beyond microseconds are truncated.
pub fn parse_datetime(s: &str) -> Result<Timestamp, DateTimeError> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(DateTimeError::Syntax);
    }
    let year = digits(&b[0..4]).ok_or(DateTimeError::Syntax)? as i32;
    let month = digits(&b[5..7]).ok_or(DateTimeError::Syntax)?;
    let day = digits(&b[8..10]).ok_or(DateTimeError::Syntax)?;
    let (mut hour, mut minute, mut second, mut micros) = (0u32, 0u32, 0u32, 0u32);
    let mut i = 10;
    if i < b.len() && (b[i] == b' ' || b[i] == b'T') {
        // HH:MM
        if b.len() < i + 6 || b[i + 3] != b':' {
            return Err(DateTimeError::Syntax);
        }
        hour = digits(&b[i + 1..i + 3]).ok_or(DateTimeError::Syntax)?;
        minute = digits(&b[i + 4..i + 6]).ok_or(DateTimeError::Syntax)?;
        i += 6;
        if i < b.len() && b[i] == b':' {
            if b.len() < i + 3 {
                return Err(DateTimeError::Syntax);
            }
            second = digits(&b[i + 1..i + 3]).ok_or(DateTimeError::Syntax)?;
            i += 3;
            if i < b.len() && b[i] == b'.' {
                i += 1;
                let start = i;
                let mut n = 0;
                while i < b.len() && b[i].is_ascii_digit() {
                    if n < 6 {
                        micros = micros * 10 + (b[i] - b'0') as u32;
                        n += 1;
                    }
                    i += 1;
                }
                if i == start {
                    return Err(DateTimeError::Syntax);
                }
                for _ in n..6 {
                    micros *= 10;
                }
            }
        }
    }
    // Zone.
    let mut offset_minutes: i64 = 0;
    if i < b.len() {
        match b[i] {
            b'Z' => {
                i += 1;
            }
            sign @ (b'+' | b'-') => {
                let rest = &b[i + 1..];
                let (hh, mm, used) = match rest.len() {
                    2 => (digits(&rest[0..2]), Some(0), 2),
                    4 => (digits(&rest[0..2]), digits(&rest[2..4]), 4),
                    5 if rest[2] == b':' => (digits(&rest[0..2]), digits(&rest[3..5]), 5),
                    _ => return Err(DateTimeError::Syntax),
                };
                let (hh, mm) = (hh.ok_or(DateTimeError::Syntax)?, mm.ok_or(DateTimeError::Syntax)?);
                if hh >= 24 || mm >= 60 {
                    return Err(DateTimeError::OutOfRange);
                }
                offset_minutes = (hh * 60 + mm) as i64;
                if sign == b'-' {
                    offset_minutes = -offset_minutes;
                }
                i += 1 + used;
            }
            _ => return Err(DateTimeError::Syntax),
        }
    }
    if i != b.len() {
        return Err(DateTimeError::Syntax);
    }
    if year < 1 || hour > 23 || minute > 59 || second > 59 {
        return Err(DateTimeError::OutOfRange);
    }
    let date = Day::from_ymd(year, month, day).ok_or(DateTimeError::OutOfRange)?;
    let local =
        date.start().0 + (hour as i64 * 3600 + minute as i64 * 60 + second as i64) * MICROS_PER_SECOND + micros as i64;
    let utc = local - offset_minutes * 60 * MICROS_PER_SECOND;
    // Python's datetime cannot leave years 1..=9999 when the offset is applied.
    if !(MIN_PY_DATETIME..=MAX_PY_DATETIME).contains(&utc) {
        return Err(DateTimeError::OutOfRange);
    }
    Ok(Timestamp(utc))
}

/// 0001-01-01T00:00:00 and 9999-12-31T23:59:59.999999 in microseconds.
const MIN_PY_DATETIME: i64 = -62_135_596_800 * MICROS_PER_SECOND;
const MAX_PY_DATETIME: i64 = 253_402_300_799 * MICROS_PER_SECOND + 999_999;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse_datetime(s).map(|t| t.iso()).unwrap_or_else(|e| format!("{e:?}"))
    }

    #[test]
    fn iso_text_is_the_formatted_one_for_every_year() {
        let formatted = |t: Timestamp| {
            t.naive().map(|d| {
                let mut out = String::new();
                write_datetime(d, 'T', "Z", &mut out);
                out
            })
        };
        let year = 365 * 86_400 * 1_000_000_i64;
        for us in [0, 1, 999_999, 1_412_553_600_123_456, -1, -62_135_596_800_000_000, 253_402_300_799_999_999]
            .into_iter()
            .chain((-3000..12_000).step_by(7).map(|y| y * year + y * 1_234_567 % 86_400_000_000))
        {
            let t = Timestamp(us);
            if let Some(f) = formatted(t) {
                assert_eq!(t.iso(), f, "{us}");
            }
        }
        assert_eq!(Timestamp(0).iso(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp(253_402_300_800_000_000).iso(), "10000-01-01T00:00:00.000000Z");
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(p("2014-10-06"), "2014-10-06T00:00:00.000000Z");
        assert_eq!(p("2014-10-06 12:30"), "2014-10-06T12:30:00.000000Z");
        assert_eq!(p("2014-10-06T12:30"), "2014-10-06T12:30:00.000000Z");
        assert_eq!(p("2014-10-06 12:30:05"), "2014-10-06T12:30:05.000000Z");
        assert_eq!(p("2014-10-06 12:30:05.5"), "2014-10-06T12:30:05.500000Z");
        assert_eq!(p("2014-10-06T12:30:05.123456"), "2014-10-06T12:30:05.123456Z");
        assert_eq!(p("2014-10-06T12:30:05.1234569"), "2014-10-06T12:30:05.123456Z");
        assert_eq!(p("2014-10-06T12:30:05Z"), "2014-10-06T12:30:05.000000Z");
    }

    #[test]
    fn offsets_convert_to_utc() {
        assert_eq!(p("2014-10-06T02:13:03.318467+02:00"), "2014-10-06T00:13:03.318467Z");
        assert_eq!(p("2014-10-06T02:13:03+0200"), "2014-10-06T00:13:03.000000Z");
        assert_eq!(p("2014-10-06T02:13:03+02"), "2014-10-06T00:13:03.000000Z");
        assert_eq!(p("2014-10-05T22:00:00-02:30"), "2014-10-06T00:30:00.000000Z");
        assert_eq!(p("2014-10-06 00:00-05:00"), "2014-10-06T05:00:00.000000Z");
        assert_eq!(p("2014-10-06+01:00"), "2014-10-05T23:00:00.000000Z");
    }

    #[test]
    fn rejected_forms() {
        for s in [
            "yesterday",
            "",
            "2014-10-06 12",
            "2014-10-06 12:3",
            "2014-10-06 12:30:05.",
            "2014-13-06",
            "2014-02-30",
            "2014-10-06 24:00:00",
            "2014-10-06 12:60",
            "2014-10-06 12:30:60",
            "2014-10-06X12:30",
            "2014-10-06T12:30:05+2",
            "2014-10-06T12:30:05+02:0",
            "2014-10-06T12:30:05 ",
            " 2014-10-06",
            "0000-01-01",
            "2014/10/06",
        ] {
            assert!(parse_datetime(s).is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn python_str_drops_zero_microseconds() {
        let t = parse_datetime("2014-10-06 02:12:57").unwrap();
        assert_eq!(t.python_str(), "2014-10-06 02:12:57");
        let t = parse_datetime("2014-10-06 02:12:57.000001").unwrap();
        assert_eq!(t.python_str(), "2014-10-06 02:12:57.000001");
        assert_eq!(t.wire(), "2014-10-06 02:12:57.000001");
    }

    #[test]
    fn days() {
        let t = parse_datetime("2014-10-06 23:59:59.999999").unwrap();
        assert_eq!(t.day().to_string(), "2014-10-06");
        assert_eq!(t.plus_micros(1).day().to_string(), "2014-10-07");
        assert_eq!(Day::parse("2014-10-06").unwrap().start().iso(), "2014-10-06T00:00:00.000000Z");
        let old = parse_datetime("1969-12-31 23:00").unwrap();
        assert_eq!(old.day().to_string(), "1969-12-31");
        assert!(!old.is_midnight());
    }
}

//! The fast reader of a record (docs/inputs.md#reading-fast): one pass over the text that
//! checks its syntax and keeps the same fields as the exact reader, for the records that
//! are plain JSON objects. Anything it does not take exactly (a backslash in a string, a
//! control character, a payload that is not an object, a stream dump's `events`, an object
//! that may be a typed datetime, deep nesting, any syntax error) makes it give up, and the
//! exact reader ([`super::parse_top_exact`]) reads the record instead.
//!
//! Numbers and strings are kept as the exact reader keeps them: a string as the slice of
//! the text between its quotes, a number read from its text by [`super::number`].

use super::{number, ImageMeta, Object, Payload, PayloadSlot, Scalar, Top};
use std::borrow::Cow;

/// Deeper than this, the exact reader decides (serde_json stops at 128).
const MAX_DEPTH: u32 = 64;

/// The record as a [`Top::Object`], or `None` when the exact reader must read it.
pub fn parse(text: &[u8]) -> Option<Top<'_>> {
    // Checked once for the whole record, so that every string is a slice of it.
    let (ascii, plain) = survey(text);
    let s = if ascii {
        // SAFETY: every byte is below 0x80, and ASCII is UTF-8.
        unsafe { std::str::from_utf8_unchecked(text) }
    } else {
        std::str::from_utf8(text).ok()?
    };
    let mut r = Reader { s, b: s.as_bytes(), i: 0, plain };
    r.ws();
    if r.peek()? != b'{' {
        return None;
    }
    let o = r.top()?;
    r.ws();
    (r.i == r.b.len()).then_some(Top::Object(o))
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Whether the record holds no backslash and no control character at all: every
    /// string then ends at the next quote (a JSON Lines record always, unless it has escapes).
    plain: bool,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The first byte of `v` (little-endian) that ends a plain string: a quote, a
/// backslash or a control character; as a bit in the byte's high position.
#[inline]
fn stops(v: u64) -> u64 {
    let q = v ^ (ONES * u64::from(b'"'));
    let e = v ^ (ONES * u64::from(b'\\'));
    (q.wrapping_sub(ONES) | e.wrapping_sub(ONES) | v.wrapping_sub(ONES * 0x20)) & !v & HIGHS
}

/// Whether `b` is all ASCII, and whether it is plain: no backslash and no control
/// character (below 0x20), tab and newline included. One branch-free pass over blocks
/// of 64 bytes, which the compiler turns into vector instructions.
fn survey(b: &[u8]) -> (bool, bool) {
    let (mut high, mut odd) = (0u8, 0u8);
    let mut blocks = b.chunks_exact(64);
    for block in blocks.by_ref() {
        for &c in block {
            high |= c;
            odd |= u8::from(c == b'\\') | u8::from(c < 0x20);
        }
    }
    for &c in blocks.remainder() {
        high |= c;
        odd |= u8::from(c == b'\\') | u8::from(c < 0x20);
    }
    (high < 0x80, odd == 0)
}

#[cfg(test)]
fn plain(b: &[u8]) -> bool {
    survey(b).1
}

/// From just after an opening quote in a plain record: where the closing quote is.
#[inline]
fn quote(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = b.get(i..i + 8) {
        let q = u64::from_le_bytes(chunk.try_into().ok()?) ^ (ONES * u64::from(b'"'));
        let m = q.wrapping_sub(ONES) & !q & HIGHS;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&c| c == b'"').map(|k| i + k)
}

/// From just after an opening quote: where the closing quote is, or `None` when a
/// backslash or a control character comes first (or the text ends).
#[inline]
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = b.get(i..i + 8) {
        let m = stops(u64::from_le_bytes(chunk.try_into().ok()?));
        if m != 0 {
            i += (m.trailing_zeros() / 8) as usize;
            return (b[i] == b'"').then_some(i);
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => return Some(i),
            b'\\' | 0..=0x1f => return None,
            _ => i += 1,
        }
    }
    None
}

impl<'a> Reader<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        // Most often there is none, or one space (Python's separators are ", " and ": ").
        match self.b.get(self.i) {
            Some(&c) if c > b' ' => return,
            Some(b' ') if self.b.get(self.i + 1).is_some_and(|&c| c > b' ') => {
                self.i += 1;
                return;
            }
            _ => {}
        }
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// At an opening quote: the string's text.
    /// From just after an opening quote: where the closing quote is (see [`string_end`]).
    #[inline(always)]
    fn string_end(&self, start: usize) -> Option<usize> {
        if self.plain {
            quote(self.b, start)
        } else {
            string_end(self.b, start)
        }
    }

    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        let start = self.i + 1;
        let end = self.string_end(start)?;
        self.i = end + 1;
        // Both ends are next to a quote, so on character boundaries.
        self.s.get(start..end)
    }

    /// A number, checked against JSON's grammar: its text.
    fn number(&mut self) -> Option<&'a str> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let digits = |mut i: usize| {
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
            i
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(i + 1),
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            let d = digits(i + 1);
            if d == i + 1 {
                return None;
            }
            i = d;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let d = digits(i);
            if d == i {
                return None;
            }
            i = d;
        }
        self.i = i;
        self.s.get(start..i)
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? != word {
            return None;
        }
        self.i += word.len();
        Some(())
    }

    /// At `{`: each member's key handed to `member` with the reader at its value,
    /// which `member` must read.
    #[inline]
    fn object(&mut self, depth: u32, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if self.open(depth, b'}')? {
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            self.ws();
            member(self, key)?;
            if self.after_item(b'}')? {
                return Some(());
            }
        }
    }

    /// At an opening `{` or `[`: past it and the blanks after it; `true` when the container is
    /// empty (then past its `close` too). Nesting deeper than the limit is left to the exact reader.
    #[inline]
    fn open(&mut self, depth: u32, close: u8) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.peek()? == close {
            self.i += 1;
            return Some(true);
        }
        Some(false)
    }

    /// After a member or an element: past a `,` and the blanks after it (`false`: another
    /// follows), or past the closing `close` (`true`: the container ends); anything else is no JSON.
    #[inline]
    fn after_item(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let b = self.peek()?;
        self.i += 1;
        if b == b',' {
            self.ws();
            Some(false)
        } else {
            (b == close).then_some(true)
        }
    }

    /// At `[`: every element checked and passed over.
    fn skip_array(&mut self, depth: u32) -> Option<()> {
        if self.open(depth, b']')? {
            return Some(());
        }
        loop {
            self.skip_value(depth + 1)?;
            if self.after_item(b']')? {
                return Some(());
            }
        }
    }

    /// Any value, checked and passed over.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.i = self.string_end(self.i + 1)? + 1;
                Some(())
            }
            b'{' => self.object(depth, |r, _| r.skip_value(depth + 1)),
            b'[' => self.skip_array(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    /// A value as [`Scalar::from_raw`] reads it.
    fn scalar(&mut self, depth: u32) -> Option<Scalar<'a>> {
        let start = self.i;
        Some(match self.peek()? {
            b'"' => Scalar::Str(Cow::Borrowed(self.string()?)),
            b'{' => {
                self.skip_value(depth)?;
                // One that may be quincy's typed datetime is for the exact reader.
                if memchr::memmem::find(&self.b[start..self.i], b"__type__").is_some() {
                    return None;
                }
                Scalar::Object { typed_datetime: None }
            }
            b'[' => {
                self.skip_array(depth)?;
                Scalar::Array
            }
            b't' => {
                self.literal(b"true")?;
                Scalar::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Scalar::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Scalar::Null
            }
            _ => number(self.number()?),
        })
    }

    /// The top-level object, as [`super::TopVisitor`] keeps it.
    fn top(&mut self) -> Option<Object<'a>> {
        let mut o = Object { fields: Vec::with_capacity(24), ..Object::default() };
        self.object(0, |r, k| {
            match k {
                "payload" => {
                    if r.peek()? != b'{' {
                        return None;
                    }
                    o.payload = Some(PayloadSlot::Object(r.payload(1)?));
                }
                // A stream dump keeps its events raw: the exact reader's business.
                "events" => return None,
                "exception" => {
                    let (v, found) = r.dig(1, &["kwargs", "uuid"])?;
                    o.exception_uuid = found;
                    o.fields.push((Cow::Borrowed(k), v));
                }
                "instance" => {
                    let (v, found) = r.dig(1, &["uuid"])?;
                    o.instance_uuid = found;
                    o.fields.push((Cow::Borrowed(k), v));
                }
                _ => {
                    let v = r.scalar(1)?;
                    o.fields.push((Cow::Borrowed(k), v));
                }
            }
            Some(())
        })?;
        Some(o)
    }

    /// A value and what one key path into it reaches, as [`super::Dig`] finds them
    /// (a repeated key keeps the last).
    fn dig(&mut self, depth: u32, path: &[&str]) -> Option<(Scalar<'a>, Option<Scalar<'a>>)> {
        let Some((first, rest)) = path.split_first() else { return Some((self.scalar(depth)?, None)) };
        if self.peek()? != b'{' {
            return Some((self.scalar(depth)?, None));
        }
        let start = self.i;
        let mut found = None;
        self.object(depth, |r, k| {
            if k != *first {
                return r.skip_value(depth + 1);
            }
            found = if rest.is_empty() { Some(r.scalar(depth + 1)?) } else { r.dig(depth + 1, rest)?.1 };
            Some(())
        })?;
        if memchr::memmem::find(&self.b[start..self.i], b"__type__").is_some() {
            return None;
        }
        Some((Scalar::Object { typed_datetime: None }, found))
    }

    /// The payload object, as [`super::PayloadVisitor`] keeps it.
    fn payload(&mut self, depth: u32) -> Option<Box<Payload<'a>>> {
        let mut p = Box::<Payload>::default();
        self.object(depth, |r, k| {
            // By length first: most keys are none of these, and are told so at once.
            let slot = match (k.len(), k) {
                (9, "tenant_id") => &mut p.tenant_id,
                (7, "user_id") => &mut p.user_id,
                (11, "instance_id") => &mut p.instance_id,
                (9, "memory_mb") => &mut p.memory_mb,
                (7, "disk_gb") => &mut p.disk_gb,
                (7, "root_gb") => &mut p.root_gb,
                (12, "ephemeral_gb") => &mut p.ephemeral_gb,
                (5, "vcpus") => &mut p.vcpus,
                (16, "instance_type_id") => &mut p.instance_type_id,
                (13, "instance_type") => &mut p.instance_type,
                (5, "state") => &mut p.state,
                (11, "launched_at") => &mut p.launched_at,
                (10, "deleted_at") => &mut p.deleted_at,
                (22, "audit_period_beginning") => &mut p.audit_period_beginning,
                (19, "audit_period_ending") => &mut p.audit_period_ending,
                (13, "instance_uuid") => &mut p.instance_uuid,
                (18, "instance_flavor_id") => &mut p.instance_flavor_id,
                (7, "message") => &mut p.message,
                (17, "state_description") => &mut p.state_description,
                (12, "display_name") => &mut p.display_name,
                (13, "terminated_at") => &mut p.terminated_at,
                (10, "image_meta") => {
                    p.set_image_meta(r.image_meta(depth + 1)?);
                    return Some(());
                }
                (9, "bandwidth") => {
                    (p.bw_in, p.bw_out) = r.bandwidth(depth + 1)?;
                    return Some(());
                }
                _ => return r.skip_value(depth + 1),
            };
            *slot = Some(r.scalar(depth + 1)?);
            Some(())
        })?;
        Some(p)
    }

    /// `image_meta`: its keys of interest when it is an object, none otherwise.
    fn image_meta(&mut self, depth: u32) -> Option<ImageMeta<'a>> {
        let mut im = ImageMeta::default();
        if self.peek()? != b'{' {
            self.skip_value(depth)?;
            return Some(im);
        }
        self.object(depth, |r, k| {
            let slot = match (k.len(), k) {
                (30, "org.openstack__1__architecture") => &mut im.architecture,
                (28, "org.openstack__1__os_version") => &mut im.os_version,
                (27, "org.openstack__1__os_distro") => &mut im.os_distro,
                (18, "instance_type_name") => &mut im.instance_type_name,
                (22, "instance_type_flavorid") => &mut im.instance_type_flavorid,
                (23, "instance_type_flavor_id") => &mut im.instance_type_flavor_id,
                (25, "com.rackspace__1__options") => &mut im.rax_options,
                _ => return r.skip_value(depth + 1),
            };
            *slot = Some(r.scalar(depth + 1)?);
            Some(())
        })?;
        Some(im)
    }

    /// `bandwidth.public.bw_in` and `.bw_out`: a later `public` replaces both.
    #[allow(clippy::type_complexity)]
    fn bandwidth(&mut self, depth: u32) -> Option<(Option<Scalar<'a>>, Option<Scalar<'a>>)> {
        let mut found = (None, None);
        if self.peek()? != b'{' {
            self.skip_value(depth)?;
            return Some(found);
        }
        self.object(depth, |r, k| {
            if k != "public" {
                return r.skip_value(depth + 1);
            }
            found = (None, None);
            if r.peek()? != b'{' {
                return r.skip_value(depth + 1);
            }
            r.object(depth + 1, |r, k| {
                match k {
                    "bw_in" => found.0 = Some(r.scalar(depth + 2)?),
                    "bw_out" => found.1 = Some(r.scalar(depth + 2)?),
                    _ => r.skip_value(depth + 2)?,
                }
                Some(())
            })
        })?;
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_ends() {
        assert_eq!(string_end(b"abc\"", 0), Some(3));
        assert_eq!(string_end(b"abcdefghijklmnop\"x", 0), Some(16));
        assert_eq!(string_end(b"abcdefghijk\\\"", 0), None);
        assert_eq!(string_end(b"abcdefgh\x01ijk\"", 0), None);
        assert_eq!(string_end("h\u{e9}llo w\u{f6}rld, \"".as_bytes(), 0), Some(15));
        assert_eq!(quote(b"abcdefghijklmnopqrs\"t", 0), Some(19));
        assert_eq!(quote(b"ab\"", 0), Some(2));
        assert_eq!(quote(b"abcdefghij", 0), None);
        assert_eq!(string_end(b"abcdefghijklmnop", 0), None);
    }

    #[test]
    fn plain_records() {
        assert!(plain("{\"a\": \"b\", \"c\": [1, 2.5e3], \"\u{e9}\": null}".as_bytes()));
        for bad in [&b"{\"a\": \"b\\n\"}"[..], b"{\"a\":\t1}", b"{\"a\": \"\x01\"}", b"0123456\x1f", b"01234567\\"] {
            assert!(!plain(bad), "{bad:?}");
        }
        // A string of a record that is not plain is read carefully, and still kept.
        let Some(Top::Object(o)) = parse(b"{\"a\":\n\"b\"}") else { panic!() };
        assert_eq!(o.str_field("a"), Some("b"));
    }

    #[test]
    fn text_beyond_ascii_is_checked_as_utf8() {
        assert_eq!(survey(b"{\"a\": \"b\"}"), (true, true));
        assert_eq!(survey("{\"\u{e9}\": 1}".as_bytes()), (false, true));
        // A byte above 0x7f anywhere, even at the end of a block of 64, is seen.
        for at in [0, 63, 64, 100] {
            let mut b = vec![b' '; 101];
            b[at] = 0xff;
            assert_eq!(survey(&b), (false, true), "{at}");
        }
        // Invalid UTF-8 is left to the exact reader; valid text beyond ASCII is kept.
        assert!(parse(b"{\"a\": \"\xff\"}").is_none());
        assert!(parse(b"{\"a\": \"\xc3\"}").is_none());
        let Some(Top::Object(o)) = parse("{\"a\": \"h\u{e9}\"}".as_bytes()) else { panic!() };
        assert_eq!(o.str_field("a"), Some("h\u{e9}"));
    }

    #[test]
    fn gives_up_on_what_it_does_not_take() {
        for text in [
            r#"{"a":"\n"}"#,
            r#"[1,2]"#,
            r#"{"payload":[1]}"#,
            r#"{"events":[]}"#,
            r#"{"t":{"__type__":"datetime","datetime":"2014-10-07"}}"#,
            r#"{"a":1,}"#,
            r#"{"a":01}"#,
            r#"{"a":1} x"#,
            r#"{"a":tru}"#,
            "{\"a\":\"\u{1}\"}",
        ] {
            assert!(parse(text.as_bytes()).is_none(), "{text}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(parse(deep.as_bytes()).is_none());
    }
}

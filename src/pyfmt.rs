//! How Python prints values. The original system was Python: the U2 messages,
//! text traits taken from numbers and the JSON it wrote all follow these rules
//! (docs/distillation.md#traits-2014, docs/checks.md#usage-checks).

/// `repr(float)` / `str(float)` in Python 3: the shortest digits that round-trip,
/// in positional notation for exponents -4..16, scientific (`1e+16`, `1.5e-05`)
/// outside it, and always with a `.0` or exponent so that it reads as a float.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e-5", "7e0".
    let sci = format!("{:e}", f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..(-point) {
                out.push('0');
            }
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            for _ in digits.len()..point as usize {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    }
    out
}

/// `json.dumps` of a float: like `repr`, but non-finite values are spelled
/// `NaN`, `Infinity`, `-Infinity`.
pub fn float_json(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        float_repr(f)
    }
}

/// Append `s` as a JSON string the way Python's `json.dumps(..., ensure_ascii=False)`
/// writes it (`"`, `\` and control characters below U+0020 escaped), and
/// beyond it every other character that must not reach a terminal raw (DEL,
/// C1, bidi and format characters) as `\uXXXX` (docs/outputs.md#hostile-text).
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f | 0x7f => None,
            // The first byte of a character beyond ASCII: look at the character.
            0xc2..=0xf4 if s[i..].chars().next().is_some_and(crate::text::is_hostile) => None,
            _ => continue,
        };
        out.push_str(&s[last..i]);
        let c = s[i..].chars().next().unwrap_or('\u{fffd}');
        match esc {
            Some(e) => out.push_str(e),
            None => crate::text::push_json_char(out, c),
        }
        last = i + c.len_utf8();
    }
    out.push_str(&s[last..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_does() {
        let cases: &[(f64, &str)] = &[
            (7.0, "7.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456789.125, "123456789.125"),
            (7.000000000000001, "7.000000000000001"),
            (-0.0, "-0.0"),
            (-2.5, "-2.5"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (80.0, "80.0"),
            (f64::INFINITY, "inf"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(*f), *want, "repr({f:e})");
        }
        assert_eq!(float_json(f64::NAN), "NaN");
        assert_eq!(float_json(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn json_strings_escape_like_python() {
        let mut s = String::new();
        push_json_str(&mut s, "tenant-été \"q\" \\ \n\u{1b}[31m");
        assert_eq!(s, "\"tenant-été \\\"q\\\" \\\\ \\n\\u001b[31m\"");
    }
}

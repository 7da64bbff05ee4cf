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

/// The digit zero of every decimal digit run in Unicode 14 (category Nd, as Python
/// 3.11's `unicodedata` has them): each is followed by the digits one to nine.
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0,
    0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0,
    0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60,
    0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit of any script, as Python's `int()` reads it (`'٢'` is 2).
pub fn decimal_digit(c: char) -> Option<u8> {
    if c.is_ascii() {
        return c.to_digit(10).map(|d| d as u8);
    }
    let c = c as u32;
    let i = DIGIT_ZEROS.partition_point(|&z| z <= c).checked_sub(1)?;
    let d = c - DIGIT_ZEROS[i];
    (d < 10).then_some(d as u8)
}

/// Python's `str(int(f))` for a finite float with no fraction: its exact decimal
/// value, however large (`1e20` is `100000000000000000000`).
pub fn int_text(f: f64) -> String {
    const LIMB: u64 = 1_000_000_000;
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    // |f| = mantissa * 2^shift
    let (mantissa, shift) = if exp == 0 { (frac, -1074) } else { (frac | (1 << 52), exp - 1075) };
    let sign = if f < 0.0 { "-" } else { "" };
    if shift <= 0 {
        let v = if shift <= -64 { 0 } else { mantissa >> -shift };
        return if v == 0 { "0".into() } else { format!("{sign}{v}") };
    }
    // Little-endian limbs of nine decimal digits each, doubled `shift` times.
    let mut limbs: Vec<u64> = vec![mantissa % LIMB, mantissa / LIMB % LIMB, mantissa / LIMB / LIMB];
    for _ in 0..shift {
        let mut carry = 0;
        for l in limbs.iter_mut() {
            let v = *l * 2 + carry;
            *l = v % LIMB;
            carry = v / LIMB;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut out = String::from(sign);
    let mut from_top = limbs.iter().rev();
    if let Some(top) = from_top.next() {
        out.push_str(&top.to_string());
    }
    for l in from_top {
        out.push_str(&format!("{l:09}"));
    }
    out
}

/// The float equal to the integer written `text`, if one is exactly (Python
/// compares `10**20 == 1e20` exactly); NaN, which equals nothing, if none is.
pub fn exact_float(text: &str) -> f64 {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && int_text(f) == text => f,
        _ => f64::NAN,
    }
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
    fn decimal_digits_of_any_script() {
        assert_eq!(decimal_digit('7'), Some(7));
        assert_eq!(decimal_digit('\u{662}'), Some(2)); // ARABIC-INDIC DIGIT TWO
        assert_eq!(decimal_digit('\u{FF19}'), Some(9)); // FULLWIDTH DIGIT NINE
        assert_eq!(decimal_digit('\u{1D7CE}'), Some(0)); // MATHEMATICAL BOLD DIGIT ZERO
        assert_eq!(decimal_digit('\u{1D7FF}'), Some(9));
        assert_eq!(decimal_digit('\u{B2}'), None, "superscript two is not a decimal digit");
        assert_eq!(decimal_digit('\u{2162}'), None, "nor is roman numeral three");
        assert_eq!(decimal_digit('a'), None);
        assert_eq!(decimal_digit('\u{65F}'), None);
    }

    #[test]
    fn integral_floats_print_exactly() {
        // Each as Python's str(int(f)).
        assert_eq!(int_text(1e20), "100000000000000000000");
        assert_eq!(int_text(-1e20), "-100000000000000000000");
        assert_eq!(int_text(9223372036854775808.0), "9223372036854775808");
        assert_eq!(int_text(1e23), "99999999999999991611392");
        assert_eq!(int_text(7.0), "7");
        assert_eq!(int_text(-0.0), "0");
        assert_eq!(int_text(2f64.powi(100)), "1267650600228229401496703205376");
        assert!(int_text(f64::MAX).starts_with("1797693134862315708145274237317043567980"));
        assert_eq!(int_text(f64::MAX).len(), 309);
        assert_eq!(exact_float("100000000000000000000"), 1e20);
        assert!(exact_float("100000000000000000001").is_nan());
        assert!(exact_float(&"1".repeat(400)).is_nan());
    }

    #[test]
    fn json_strings_escape_like_python() {
        let mut s = String::new();
        push_json_str(&mut s, "tenant-été \"q\" \\ \n\u{1b}[31m");
        assert_eq!(s, "\"tenant-été \\\"q\\\" \\\\ \\n\\u001b[31m\"");
    }
}

//! A single-pass JSON view of one record, keeping only what distillation needs.
//!
//! serde_json drives the scan; these visitors keep the top-level fields as small
//! borrowed scalars, dig into `payload` for the fields the trait table names,
//! and skip everything else (`_context_roles`, `bandwidth`, `metadata` …)
//! without building it. Duplicate keys behave as in Python: the last one wins.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

pub mod fast;

/// A JSON value reduced to what a trait conversion can use.
#[derive(Debug, Clone)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond 64 bits, kept exactly as its decimal text (docs/inputs.md#number-reading).
    BigInt(Cow<'a, str>),
    /// A float literal; one beyond the double range is infinite, as Python's reader gives.
    Float(f64),
    Str(Cow<'a, str>),
    /// An object; `typed_datetime` holds quincy's `{"__type__": "datetime", "datetime": …}`.
    Object {
        typed_datetime: Option<Cow<'a, str>>,
    },
    Array,
}

impl Scalar<'_> {
    pub fn describe(&self) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => if *b { "true" } else { "false" }.into(),
            Scalar::Int(i) => i.to_string(),
            Scalar::BigInt(t) => t.to_string(),
            Scalar::Float(f) => crate::pyfmt::float_repr(*f),
            Scalar::Str(s) => {
                let mut out = String::new();
                let cut: String = s.chars().take(60).collect();
                crate::pyfmt::push_json_str(&mut out, &cut);
                if cut.len() < s.len() {
                    out.insert(out.len() - 1, '…');
                }
                out
            }
            Scalar::Object { .. } => "an object".into(),
            Scalar::Array => "an array".into(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn into_owned(self) -> Scalar<'static> {
        match self {
            Scalar::Null => Scalar::Null,
            Scalar::Bool(b) => Scalar::Bool(b),
            Scalar::Int(i) => Scalar::Int(i),
            Scalar::BigInt(t) => Scalar::BigInt(Cow::Owned(t.into_owned())),
            Scalar::Float(f) => Scalar::Float(f),
            Scalar::Str(s) => Scalar::Str(Cow::Owned(s.into_owned())),
            Scalar::Object { typed_datetime } => {
                Scalar::Object { typed_datetime: typed_datetime.map(|s| Cow::Owned(s.into_owned())) }
            }
            Scalar::Array => Scalar::Array,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::BigInt(Cow::Owned(v.to_string())),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut is_datetime = false;
        let mut text = None;
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match &*k {
                "__type__" => {
                    is_datetime = matches!(map.next_value::<Scalar<'de>>()?, Scalar::Str(s) if s == "datetime")
                }
                "datetime" => {
                    text = match map.next_value::<Scalar<'de>>()? {
                        Scalar::Str(s) => Some(s),
                        _ => None,
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Scalar::Object { typed_datetime: if is_datetime { text } else { None } })
    }
}

impl<'de> Scalar<'de> {
    /// The value of one raw JSON value (already checked by the parser). Numbers are
    /// read from their text as Python's `json` read them (docs/inputs.md#number-reading):
    /// an integer of any size exactly, `-0` as the integer 0, a float beyond the
    /// double range as infinity. serde_json alone would turn a big integer into a
    /// float, `-0` into `-0.0`, and refuse `1e400`.
    pub fn from_raw(raw: &'de RawValue) -> Result<Scalar<'de>, serde_json::Error> {
        let s = raw.get();
        match s.as_bytes().first() {
            Some(b'"') => {
                let inner = &s[1..s.len() - 1];
                if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
                    Ok(Scalar::Str(Cow::Borrowed(inner)))
                } else {
                    serde_json::from_str::<Key<'de>>(s).map(|k| Scalar::Str(k.0))
                }
            }
            // Only an object that may spell `__type__` (perhaps with escapes) can be a typed datetime.
            Some(b'{') if s.contains("__type__") || memchr::memchr(b'\\', s.as_bytes()).is_some() => {
                serde_json::Deserializer::from_str(s).deserialize_any(ScalarVisitor)
            }
            Some(b'{') => Ok(Scalar::Object { typed_datetime: None }),
            Some(b'[') => Ok(Scalar::Array),
            Some(b't') => Ok(Scalar::Bool(true)),
            Some(b'f') => Ok(Scalar::Bool(false)),
            Some(b'n') => Ok(Scalar::Null),
            _ => Ok(number(s)),
        }
    }
}

/// A JSON number literal as Python's `json` reads it: with a fraction or an
/// exponent a float (correctly rounded; infinite beyond the double range), else
/// an integer, exactly, whatever its size.
fn number(s: &str) -> Scalar<'_> {
    if s.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        // The parser has checked the syntax, and Rust reads any valid literal.
        Scalar::Float(s.parse().unwrap_or(f64::NAN))
    } else {
        match s.parse::<i64>() {
            Ok(i) => Scalar::Int(i),
            // Only too many digits for 64 bits fails here; JSON has no leading zeros,
            // so the text is already Python's `str()` of the integer.
            Err(_) => Scalar::BigInt(Cow::Borrowed(s)),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        Scalar::from_raw(raw).map_err(serde::de::Error::custom)
    }
}

/// An object key, borrowed from the input unless it had to be unescaped.
/// (serde's own `Cow<str>` always allocates.)
struct Key<'a>(Cow<'a, str>);

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

/// The payload fields named by the trait table (docs/distillation.md#traits-2014).
#[derive(Debug, Default, Clone)]
pub struct Payload<'a> {
    pub tenant_id: Option<Scalar<'a>>,
    pub user_id: Option<Scalar<'a>>,
    pub instance_id: Option<Scalar<'a>>,
    pub memory_mb: Option<Scalar<'a>>,
    pub disk_gb: Option<Scalar<'a>>,
    pub root_gb: Option<Scalar<'a>>,
    pub ephemeral_gb: Option<Scalar<'a>>,
    pub vcpus: Option<Scalar<'a>>,
    pub instance_type_id: Option<Scalar<'a>>,
    pub instance_type: Option<Scalar<'a>>,
    pub state: Option<Scalar<'a>>,
    pub launched_at: Option<Scalar<'a>>,
    pub deleted_at: Option<Scalar<'a>>,
    pub audit_period_beginning: Option<Scalar<'a>>,
    pub audit_period_ending: Option<Scalar<'a>>,
    pub os_architecture: Option<Scalar<'a>>,
    pub os_version: Option<Scalar<'a>>,
    pub os_distro: Option<Scalar<'a>>,
    // Fields only the 2015 trait table reads (docs/distillation.md#traits-2015).
    pub instance_uuid: Option<Scalar<'a>>,
    pub instance_flavor_id: Option<Scalar<'a>>,
    pub message: Option<Scalar<'a>>,
    pub state_description: Option<Scalar<'a>>,
    pub display_name: Option<Scalar<'a>>,
    pub terminated_at: Option<Scalar<'a>>,
    /// `bandwidth.public.bw_in` / `bw_out`.
    pub bw_in: Option<Scalar<'a>>,
    pub bw_out: Option<Scalar<'a>>,
    /// `image_meta.instance_type_name`, `.instance_type_flavorid`, `.instance_type_flavor_id`,
    /// `."com.rackspace__1__options"`.
    pub image_type_name: Option<Scalar<'a>>,
    pub image_type_flavorid: Option<Scalar<'a>>,
    pub image_type_flavor_id: Option<Scalar<'a>>,
    pub rax_options: Option<Scalar<'a>>,
}

/// `payload` as found: an object (with its fields of interest) or something else.
#[derive(Debug, Clone)]
pub enum PayloadSlot<'a> {
    /// Boxed: a record is moved from the reader to the distiller through several calls,
    /// and one allocation costs less than copying a kilobyte at each.
    Object(Box<Payload<'a>>),
    Other(Scalar<'a>),
}

impl<'a> Payload<'a> {
    /// The fields read from `image_meta`: a later `image_meta` replaces an earlier one entirely.
    fn set_image_meta(&mut self, im: ImageMeta<'a>) {
        self.os_architecture = im.architecture;
        self.os_version = im.os_version;
        self.os_distro = im.os_distro;
        self.image_type_name = im.instance_type_name;
        self.image_type_flavorid = im.instance_type_flavorid;
        self.image_type_flavor_id = im.instance_type_flavor_id;
        self.rax_options = im.rax_options;
    }
}

struct PayloadVisitor;

impl<'de> Visitor<'de> for PayloadVisitor {
    type Value = PayloadSlot<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a payload")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut p = Box::<Payload>::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let slot = match &*k {
                "tenant_id" => &mut p.tenant_id,
                "user_id" => &mut p.user_id,
                "instance_id" => &mut p.instance_id,
                "memory_mb" => &mut p.memory_mb,
                "disk_gb" => &mut p.disk_gb,
                "root_gb" => &mut p.root_gb,
                "ephemeral_gb" => &mut p.ephemeral_gb,
                "vcpus" => &mut p.vcpus,
                "instance_type_id" => &mut p.instance_type_id,
                "instance_type" => &mut p.instance_type,
                "state" => &mut p.state,
                "launched_at" => &mut p.launched_at,
                "deleted_at" => &mut p.deleted_at,
                "audit_period_beginning" => &mut p.audit_period_beginning,
                "audit_period_ending" => &mut p.audit_period_ending,
                "instance_uuid" => &mut p.instance_uuid,
                "instance_flavor_id" => &mut p.instance_flavor_id,
                "message" => &mut p.message,
                "state_description" => &mut p.state_description,
                "display_name" => &mut p.display_name,
                "terminated_at" => &mut p.terminated_at,
                "image_meta" => {
                    let im: ImageMeta = if careful() {
                        map.next_value_seed(RawFirst(std::marker::PhantomData))?
                    } else {
                        map.next_value()?
                    };
                    p.set_image_meta(im);
                    continue;
                }
                "bandwidth" => {
                    let (_, mut found) =
                        map.next_value_seed(Dig { paths: &[&["public", "bw_in"], &["public", "bw_out"]] })?;
                    p.bw_out = found.pop().flatten();
                    p.bw_in = found.pop().flatten();
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(PayloadSlot::Object(p))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        ScalarVisitor.visit_seq(seq).map(PayloadSlot::Other)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PayloadSlot::Other(Scalar::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(PayloadSlot::Other(Scalar::Int(v)))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_u64(v).map(PayloadSlot::Other)
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PayloadSlot::Other(Scalar::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PayloadSlot::Other(Scalar::Str(Cow::Owned(v.to_owned()))))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(PayloadSlot::Other(Scalar::Null))
    }
}

impl<'de> Deserialize<'de> for PayloadSlot<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PayloadVisitor)
    }
}

/// The `image_meta` keys the trait tables read; anything that is not an
/// object yields none of them (a path into a non-object matches nothing).
#[derive(Default)]
struct ImageMeta<'a> {
    architecture: Option<Scalar<'a>>,
    os_version: Option<Scalar<'a>>,
    os_distro: Option<Scalar<'a>>,
    instance_type_name: Option<Scalar<'a>>,
    instance_type_flavorid: Option<Scalar<'a>>,
    instance_type_flavor_id: Option<Scalar<'a>>,
    rax_options: Option<Scalar<'a>>,
}

struct ImageMetaVisitor;

impl<'de> Visitor<'de> for ImageMetaVisitor {
    type Value = ImageMeta<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("image_meta")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut im = ImageMeta::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let slot = match &*k {
                "org.openstack__1__architecture" => &mut im.architecture,
                "org.openstack__1__os_version" => &mut im.os_version,
                "org.openstack__1__os_distro" => &mut im.os_distro,
                "instance_type_name" => &mut im.instance_type_name,
                "instance_type_flavorid" => &mut im.instance_type_flavorid,
                "instance_type_flavor_id" => &mut im.instance_type_flavor_id,
                "com.rackspace__1__options" => &mut im.rax_options,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(im)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ImageMeta::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(ImageMeta::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(ImageMeta::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(ImageMeta::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(ImageMeta::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(ImageMeta::default())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(ImageMeta::default())
    }
}

impl<'de> Deserialize<'de> for ImageMeta<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ImageMetaVisitor)
    }
}

/// Follow several key paths into a value at once (a jsonpath like
/// `public.bw_in`): the value itself as a [`Scalar`], and what each path
/// reaches. A path into a non-object reaches nothing; a repeated key keeps the last.
pub struct Dig<'p> {
    pub paths: &'p [&'p [&'p str]],
}

impl<'de> serde::de::DeserializeSeed<'de> for Dig<'_> {
    type Value = (Scalar<'de>, Vec<Option<Scalar<'de>>>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        // Taken raw first, so that a number reached is read from its text (see [`Scalar::from_raw`]).
        let raw = <&'de RawValue>::deserialize(d)?;
        let found = if raw.get().starts_with('{') {
            serde_json::Deserializer::from_str(raw.get()).deserialize_any(self)
        } else {
            Scalar::from_raw(raw).map(|v| (v, vec![None; self.paths.len()]))
        };
        found.map_err(serde::de::Error::custom)
    }
}

impl<'de> Visitor<'de> for Dig<'_> {
    type Value = (Scalar<'de>, Vec<Option<Scalar<'de>>>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Vec<Option<Scalar<'de>>> = vec![None; self.paths.len()];
        let (mut is_datetime, mut text) = (false, None);
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let hits: Vec<usize> = (0..self.paths.len()).filter(|&i| self.paths[i].first() == Some(&&*k)).collect();
            if hits.is_empty() {
                match &*k {
                    "__type__" => {
                        is_datetime = matches!(map.next_value::<Scalar<'de>>()?, Scalar::Str(s) if s == "datetime")
                    }
                    "datetime" => text = map.next_value::<Scalar<'de>>()?.as_str().map(|s| Cow::Owned(s.to_owned())),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                continue;
            }
            let rest: Vec<&[&str]> = hits.iter().map(|&i| &self.paths[i][1..]).collect();
            let (value, deeper) = map.next_value_seed(Dig { paths: &rest })?;
            for (j, &i) in hits.iter().enumerate() {
                found[i] = if rest[j].is_empty() { Some(value.clone()) } else { deeper[j].clone() };
            }
        }
        Ok((Scalar::Object { typed_datetime: if is_datetime { text } else { None } }, found))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok((ScalarVisitor.visit_seq(seq)?, vec![None; self.paths.len()]))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok((Scalar::Bool(v), vec![None; self.paths.len()]))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok((Scalar::Int(v), vec![None; self.paths.len()]))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok((ScalarVisitor.visit_u64(v)?, vec![None; self.paths.len()]))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok((Scalar::Float(v), vec![None; self.paths.len()]))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok((Scalar::Str(Cow::Borrowed(v)), vec![None; self.paths.len()]))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok((Scalar::Str(Cow::Owned(v.to_owned())), vec![None; self.paths.len()]))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok((Scalar::Str(Cow::Owned(v)), vec![None; self.paths.len()]))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok((Scalar::Null, vec![None; self.paths.len()]))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok((Scalar::Null, vec![None; self.paths.len()]))
    }
}

/// A top-level JSON object: every key but `payload` as a scalar, `payload` dug
/// into, `events` also kept raw (a stream dump's events are read one by one; its
/// entry in `fields` only marks its place).
#[derive(Debug, Default)]
pub struct Object<'a> {
    pub fields: Vec<(Cow<'a, str>, Scalar<'a>)>,
    pub payload: Option<PayloadSlot<'a>>,
    pub events: Option<&'a RawValue>,
    /// `exception.kwargs.uuid` and `instance.uuid` (the 2015 table's last
    /// sources of `instance_id`).
    pub exception_uuid: Option<Scalar<'a>>,
    pub instance_uuid: Option<Scalar<'a>>,
}

impl<'a> Object<'a> {
    /// The value of `key` (the last one if the key is repeated, as in Python).
    pub fn get(&self, key: &str) -> Option<&Scalar<'a>> {
        self.fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == key)
    }

    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|s| s.as_str())
    }
}

/// One parsed record or line: an object, an array (elements kept raw, to be
/// read one by one), or a bare scalar.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Top<'a> {
    Object(Object<'a>),
    Array(Vec<&'a RawValue>),
    Scalar(Scalar<'a>),
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut o = Object { fields: Vec::with_capacity(24), ..Object::default() };
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match &*k {
                "payload" if careful() => o.payload = Some(map.next_value_seed(RawFirst(std::marker::PhantomData))?),
                "payload" => o.payload = Some(map.next_value()?),
                "events" => {
                    // Kept raw (a stream dump's events are read one by one) and
                    // marked in place, so that a distilled event can still take
                    // it as a trait, in order.
                    o.events = Some(map.next_value()?);
                    o.fields.push((k, Scalar::Array));
                }
                "exception" => {
                    let (v, mut found) = map.next_value_seed(Dig { paths: &[&["kwargs", "uuid"]] })?;
                    o.exception_uuid = found.pop().flatten();
                    o.fields.push((k, v));
                }
                "instance" => {
                    let (v, mut found) = map.next_value_seed(Dig { paths: &[&["uuid"]] })?;
                    o.instance_uuid = found.pop().flatten();
                    o.fields.push((k, v));
                }
                _ => {
                    let v = map.next_value()?;
                    o.fields.push((k, v));
                }
            }
        }
        Ok(Top::Object(o))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while let Some(e) = seq.next_element::<&'de RawValue>()? {
            v.push(e);
        }
        Ok(Top::Array(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Top::Scalar(Scalar::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Top::Scalar(Scalar::Int(v)))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_u64(v).map(Top::Scalar)
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Top::Scalar(Scalar::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Top::Scalar(Scalar::Str(Cow::Owned(v.to_owned()))))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Top::Scalar(Scalar::Null))
    }
}

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TopVisitor)
    }
}

/// Parse one complete JSON text into a [`Top`]: by the fast reader when it can take
/// the record (docs/inputs.md#reading-fast), else by [`parse_top_exact`]. Both give the
/// same result for every record the fast reader takes.
pub fn parse_top(text: &[u8]) -> Result<Top<'_>, serde_json::Error> {
    match fast::parse(text) {
        Some(top) => Ok(top),
        None => parse_top_exact(text),
    }
}

/// Parse one complete JSON text into a [`Top`] with serde_json: the reference reader,
/// which takes any record and says what is wrong with a broken one.
///
/// The text is checked as UTF-8 once, up front, so that the parser does not
/// validate every string again on its own.
pub fn parse_top_exact(text: &[u8]) -> Result<Top<'_>, serde_json::Error> {
    let parse = || match std::str::from_utf8(text) {
        Ok(s) => serde_json::from_str(s),
        // Let the parser find and describe the bad byte.
        Err(_) => serde_json::from_slice(text),
    };
    match parse() {
        // A float beyond the double range where a value is not taken raw (a payload, an
        // image_meta or the whole record being one): serde_json refuses it, Python read
        // infinity (docs/inputs.md#number-reading). Parsed again, taking those raw first.
        Err(e) if e.to_string().starts_with("number out of range") => {
            let raw: Result<&RawValue, _> = serde_json::from_slice(text);
            if let Ok(raw) = raw {
                if !raw.get().starts_with(['{', '[']) {
                    return Scalar::from_raw(raw).map(Top::Scalar);
                }
            }
            CAREFUL.with(|c| c.set(true));
            let again = parse();
            CAREFUL.with(|c| c.set(false));
            again
        }
        r => r,
    }
}

thread_local! {
    /// Whether the record being parsed holds a float beyond the double range.
    static CAREFUL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn careful() -> bool {
    CAREFUL.with(|c| c.get())
}

/// A value deserialised from its raw text: an object (or array) by its own
/// visitor, anything else as a [`Scalar`], so that its numbers are read from their text.
struct RawFirst<T>(std::marker::PhantomData<T>);

trait FromScalar<'de>: Deserialize<'de> {
    fn from_scalar(s: Scalar<'de>) -> Self;
}

impl<'de> FromScalar<'de> for PayloadSlot<'de> {
    fn from_scalar(s: Scalar<'de>) -> Self {
        PayloadSlot::Other(s)
    }
}

impl<'de> FromScalar<'de> for ImageMeta<'de> {
    fn from_scalar(_: Scalar<'de>) -> Self {
        ImageMeta::default()
    }
}

impl<'de, T: FromScalar<'de>> serde::de::DeserializeSeed<'de> for RawFirst<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        let value = if raw.get().starts_with(['{', '[']) {
            serde_json::from_str(raw.get())
        } else {
            Scalar::from_raw(raw).map(T::from_scalar)
        };
        value.map_err(serde::de::Error::custom)
    }
}

/// What a JSON syntax error is, without serde_json's " at line L column C".
pub fn syntax_description(e: &serde_json::Error) -> String {
    let mut what = e.to_string();
    if let Some(i) = what.rfind(" at line ") {
        what.truncate(i);
    }
    what
}

/// A short reason for a JSON syntax error, with the column (and line, for
/// multi-line texts) where it was found: `invalid JSON at column 17: …`.
pub fn syntax_reason(e: &serde_json::Error, multi_line: bool) -> String {
    let desc = syntax_description(e);
    if multi_line {
        format!("invalid JSON at line {} column {}: {}", e.line(), e.column(), desc)
    } else {
        format!("invalid JSON at column {}: {}", e.column(), desc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_fields_of_interest() {
        let line = br#"{"event_type":"compute.instance.update","_context_roles":["a",{"b":1}],"payload":{"instance_id":"i-1","bandwidth":{"x":{"y":1}},"image_meta":{"org.openstack__1__os_distro":"com.ubuntu","min_ram":"256"},"memory_mb":512},"message_id":"m"}"#;
        let Top::Object(o) = parse_top(line).unwrap() else { panic!() };
        assert_eq!(o.str_field("event_type"), Some("compute.instance.update"));
        assert!(matches!(o.get("_context_roles"), Some(Scalar::Array)));
        let Some(PayloadSlot::Object(p)) = o.payload else { panic!() };
        assert!(matches!(p.instance_id, Some(Scalar::Str(ref s)) if s == "i-1"));
        assert!(matches!(p.os_distro, Some(Scalar::Str(ref s)) if s == "com.ubuntu"));
        assert!(matches!(p.memory_mb, Some(Scalar::Int(512))));
        assert!(p.os_version.is_none());
    }

    #[test]
    fn last_duplicate_key_wins() {
        let Top::Object(o) = parse_top(br#"{"a":1,"a":2}"#).unwrap() else { panic!() };
        assert!(matches!(o.get("a"), Some(Scalar::Int(2))));
    }

    #[test]
    fn typed_datetimes_and_escapes() {
        let Top::Object(o) =
            parse_top(br#"{"t":{"__type__":"datetime","datetime":"2014-10-07T12:00:00"},"s":"a\"b"}"#).unwrap()
        else {
            panic!()
        };
        assert!(matches!(o.get("t"), Some(Scalar::Object { typed_datetime: Some(s) }) if s == "2014-10-07T12:00:00"));
        assert_eq!(o.str_field("s"), Some("a\"b"));
    }

    #[test]
    fn syntax_errors_name_the_column() {
        let e = parse_top(br#"{"event_type": "compute.inst"#).unwrap_err();
        assert_eq!(syntax_reason(&e, false), "invalid JSON at column 28: EOF while parsing a string");
    }
}

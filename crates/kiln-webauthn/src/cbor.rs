//! A minimal CBOR (RFC 8949) decoder for the structures WebAuthn uses: attestation objects,
//! COSE keys and authenticator extension maps.
//!
//! It accepts definite-length unsigned and negative integers, byte strings, text strings, arrays
//! and maps (major types 0-5) and the simple values false, true, null and undefined (major type 7).
//! Tags, floats, other simple values and indefinite lengths are rejected. Map keys must be
//! integers or text strings and must be unique. Nesting depth, entry counts and input size are
//! bounded, every length is checked against the bytes that remain before anything is allocated,
//! and no input makes it panic.

use crate::error::CborError;

/// The largest input [`decode`] and [`decode_prefix`] accept.
pub(crate) const MAX_INPUT: usize = 64 * 1024;
/// The deepest nesting of arrays and maps accepted (the top-level item is depth 1).
pub(crate) const MAX_DEPTH: usize = 16;
/// The most entries one array may declare.
pub(crate) const MAX_ARRAY_ITEMS: u64 = 1024;
/// The most entries one map may declare (keeps the duplicate-key check cheap).
pub(crate) const MAX_MAP_ENTRIES: u64 = 256;

/// A decoded CBOR item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// Major type 0 or 1: an integer in -2^64 ..= 2^64-1.
    Int(i128),
    /// Major type 2.
    Bytes(Vec<u8>),
    /// Major type 3.
    Text(String),
    /// Major type 4.
    Array(Vec<Value>),
    /// Major type 5, entries in encoded order; keys are `Int` or `Text` and unique.
    Map(Vec<(Value, Value)>),
    /// Simple values 20 and 21.
    Bool(bool),
    /// Simple value 22.
    Null,
    /// Simple value 23.
    Undefined,
}

impl Value {
    /// The entries of a map, or `None` for any other item.
    pub(crate) fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under the integer key `key` of a map entry list.
    pub(crate) fn map_get_int(entries: &[(Value, Value)], key: i128) -> Option<&Value> {
        entries.iter().find_map(|(k, v)| match k {
            Value::Int(i) if *i == key => Some(v),
            _ => None,
        })
    }

    /// The value under the text key `key` of a map entry list.
    pub(crate) fn map_get_text<'a>(entries: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
        entries.iter().find_map(|(k, v)| match k {
            Value::Text(t) if t == key => Some(v),
            _ => None,
        })
    }
}

/// Decodes exactly one item that spans all of `input`.
pub(crate) fn decode(input: &[u8]) -> Result<Value, CborError> {
    let (value, used) = decode_prefix(input)?;
    if used != input.len() {
        return Err(CborError::TrailingBytes);
    }
    Ok(value)
}

/// Decodes one item from the start of `input` and returns it with the number of bytes it used.
pub(crate) fn decode_prefix(input: &[u8]) -> Result<(Value, usize), CborError> {
    if input.len() > MAX_INPUT {
        return Err(CborError::TooLarge);
    }
    let mut decoder = Decoder { buf: input, pos: 0 };
    let value = decoder.item(1)?;
    Ok((value, decoder.pos))
}

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], CborError> {
        let n = usize::try_from(n).map_err(|_| CborError::UnexpectedEnd)?;
        if n > self.remaining() {
            return Err(CborError::UnexpectedEnd);
        }
        let end = self.pos + n;
        let bytes = self
            .buf
            .get(self.pos..end)
            .ok_or(CborError::UnexpectedEnd)?;
        self.pos = end;
        Ok(bytes)
    }

    fn uint(&mut self, width: u64) -> Result<u64, CborError> {
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// Reads an initial byte and its argument: (major type, additional info, argument).
    fn head(&mut self) -> Result<(u8, u8, u64), CborError> {
        let initial = *self.take(1)?.first().ok_or(CborError::UnexpectedEnd)?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => self.uint(1)?,
            25 => self.uint(2)?,
            26 => self.uint(4)?,
            27 => self.uint(8)?,
            28..=30 => return Err(CborError::ReservedAdditionalInfo),
            _ => return Err(CborError::IndefiniteLength),
        };
        Ok((major, info, arg))
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        let (major, info, arg) = self.head()?;
        match major {
            0 => Ok(Value::Int(i128::from(arg))),
            1 => Ok(Value::Int(-1 - i128::from(arg))),
            2 => Ok(Value::Bytes(self.take(arg)?.to_vec())),
            3 => {
                let bytes = self.take(arg)?;
                let text = std::str::from_utf8(bytes).map_err(|_| CborError::InvalidUtf8)?;
                Ok(Value::Text(text.to_owned()))
            }
            4 => {
                if arg > MAX_ARRAY_ITEMS {
                    return Err(CborError::TooManyItems);
                }
                // Every item takes at least one byte: refuse counts the input cannot hold
                // before reserving memory for them.
                if arg > self.remaining() as u64 {
                    return Err(CborError::UnexpectedEnd);
                }
                let mut items = Vec::with_capacity(arg as usize);
                for _ in 0..arg {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                if arg > MAX_MAP_ENTRIES {
                    return Err(CborError::TooManyItems);
                }
                if arg.saturating_mul(2) > self.remaining() as u64 {
                    return Err(CborError::UnexpectedEnd);
                }
                let mut entries: Vec<(Value, Value)> = Vec::with_capacity(arg as usize);
                for _ in 0..arg {
                    let key = self.item(depth + 1)?;
                    if !matches!(key, Value::Int(_) | Value::Text(_)) {
                        return Err(CborError::InvalidMapKey);
                    }
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(CborError::DuplicateMapKey);
                    }
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
            7 => match info {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 => Ok(Value::Null),
                23 => Ok(Value::Undefined),
                _ => Err(CborError::UnsupportedItem),
            },
            // Major type 6 (tags); `major` has three bits so nothing else reaches here.
            _ => Err(CborError::UnsupportedItem),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_rfc8949_appendix_a_examples() {
        let cases: &[(&str, Value)] = &[
            ("00", Value::Int(0)),
            ("17", Value::Int(23)),
            ("1818", Value::Int(24)),
            ("1903e8", Value::Int(1000)),
            ("1a000f4240", Value::Int(1_000_000)),
            ("1bffffffffffffffff", Value::Int(u64::MAX as i128)),
            ("20", Value::Int(-1)),
            ("3863", Value::Int(-100)),
            ("3bffffffffffffffff", Value::Int(-1 - u64::MAX as i128)),
            ("40", Value::Bytes(vec![])),
            ("4401020304", Value::Bytes(vec![1, 2, 3, 4])),
            ("60", Value::Text(String::new())),
            ("6449455446", Value::Text("IETF".into())),
            ("62c3bc", Value::Text("\u{fc}".into())),
            ("f4", Value::Bool(false)),
            ("f5", Value::Bool(true)),
            ("f6", Value::Null),
            ("f7", Value::Undefined),
            (
                "8301820203820405",
                Value::Array(vec![
                    Value::Int(1),
                    Value::Array(vec![Value::Int(2), Value::Int(3)]),
                    Value::Array(vec![Value::Int(4), Value::Int(5)]),
                ]),
            ),
            (
                "a201020304",
                Value::Map(vec![
                    (Value::Int(1), Value::Int(2)),
                    (Value::Int(3), Value::Int(4)),
                ]),
            ),
            (
                "a26161016162820203",
                Value::Map(vec![
                    (Value::Text("a".into()), Value::Int(1)),
                    (
                        Value::Text("b".into()),
                        Value::Array(vec![Value::Int(2), Value::Int(3)]),
                    ),
                ]),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(decode(&hex(input)).as_ref(), Ok(expected), "{input}");
        }
    }

    #[test]
    fn rejects_what_webauthn_does_not_use() {
        let cases: &[(&str, CborError)] = &[
            ("", CborError::UnexpectedEnd),
            ("18", CborError::UnexpectedEnd),
            ("1b00000000", CborError::UnexpectedEnd),
            ("0000", CborError::TrailingBytes),
            ("1c", CborError::ReservedAdditionalInfo),
            ("5f4101ff", CborError::IndefiniteLength),
            ("9fff", CborError::IndefiniteLength),
            ("ff", CborError::IndefiniteLength),
            ("c11a514b67b0", CborError::UnsupportedItem),
            ("f93c00", CborError::UnsupportedItem),
            ("fb3ff199999999999a", CborError::UnsupportedItem),
            ("f0", CborError::UnsupportedItem),
            ("f818", CborError::UnsupportedItem),
            ("62c328", CborError::InvalidUtf8),
            ("a1400102", CborError::InvalidMapKey),
            ("a1f501", CborError::InvalidMapKey),
            ("a201020103", CborError::DuplicateMapKey),
            ("a2616101616102", CborError::DuplicateMapKey),
            ("5bffffffffffffffff", CborError::UnexpectedEnd),
            ("9bffffffffffffffff", CborError::TooManyItems),
            ("990400", CborError::UnexpectedEnd),
            ("b9ffff", CborError::TooManyItems),
        ];
        for (input, expected) in cases {
            assert_eq!(decode(&hex(input)), Err(*expected), "{input}");
        }
    }

    #[test]
    fn depth_is_limited() {
        let mut ok = vec![0x81u8; MAX_DEPTH - 1];
        ok.push(0x00);
        assert!(decode(&ok).is_ok());
        let mut deep = vec![0x81u8; MAX_DEPTH];
        deep.push(0x00);
        assert_eq!(decode(&deep), Err(CborError::TooDeep));
        let very_deep = vec![0x81u8; 60_000];
        assert_eq!(decode(&very_deep), Err(CborError::TooDeep));
    }

    #[test]
    fn size_is_limited() {
        let mut big = vec![0x5a, 0x00, 0x01, 0x00, 0x00];
        big.resize(5 + 65536, 0);
        assert_eq!(decode(&big), Err(CborError::TooLarge));
    }

    #[test]
    fn prefix_reports_length_used() {
        let (value, used) = decode_prefix(&hex("a10102ffff")).unwrap();
        assert_eq!(value, Value::Map(vec![(Value::Int(1), Value::Int(2))]));
        assert_eq!(used, 3);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            let _ = decode_prefix(&bytes);
        }
    }
}

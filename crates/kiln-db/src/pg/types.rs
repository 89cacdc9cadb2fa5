//! Values across the PostgreSQL wire: binding a [`Value`] to whatever type the server inferred
//! for a placeholder, and reading a column back as a [`ValueRef`].
//!
//! Kiln's SQL is written once for SQLite's dynamic typing, where `views = '5'` or `title = 5`
//! simply converts. PostgreSQL infers each placeholder's type from its context instead, so a
//! value is converted here to the inferred type the way SQLite's affinity would convert it.

use std::error::Error;

use bytes::{BufMut, BytesMut};
use postgres_types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

use crate::{Value, ValueRef};

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if matches!(self, Value::Null) {
            return Ok(IsNull::Yes);
        }
        match *ty {
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
                write_text(self, out)
            }
            Type::JSONB => {
                out.put_u8(1);
                write_text(self, out)
            }
            Type::FLOAT8 => out.put_f64(number(self)?),
            Type::FLOAT4 => out.put_f32(number(self)? as f32),
            Type::INT8 => out.put_i64(integer(self)?),
            Type::INT4 => out.put_i32(i32::try_from(integer(self)?)?),
            Type::INT2 => out.put_i16(i16::try_from(integer(self)?)?),
            Type::BOOL => match boolean(self) {
                Some(b) => out.put_u8(b as u8),
                // SQLite compares 1 with 'yes' as unequal values; NULL matches nothing either.
                None => return Ok(IsNull::Yes),
            },
            Type::BYTEA => match self {
                Value::Blob(b) => out.put_slice(b),
                other => write_text(other, out),
            },
            _ => return Err(format!("a value cannot be bound to a parameter of type {ty}").into()),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The text SQLite would convert the value to.
fn write_text(v: &Value, out: &mut BytesMut) {
    match v {
        Value::Null => {}
        Value::Int(i) => out.put_slice(i.to_string().as_bytes()),
        Value::Float(f) => out.put_slice(format!("{f:?}").as_bytes()),
        Value::Text(s) => out.put_slice(s.as_bytes()),
        Value::Blob(b) => out.put_slice(b),
    }
}

/// A number as SQLite's NUMERIC affinity reads it; text that is not a number becomes NaN, which
/// PostgreSQL orders after every number — as SQLite orders text after numbers — and which
/// equals no number.
fn number(v: &Value) -> Result<f64, BoxError> {
    Ok(match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Text(s) => s.trim().parse().unwrap_or(f64::NAN),
        Value::Null | Value::Blob(_) => f64::NAN,
    })
}

fn integer(v: &Value) -> Result<i64, BoxError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(*f as i64),
        Value::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an integer").into()),
        _ => Err("the value is not an integer".into()),
    }
}

/// A boolean as SQLite stores one: a number, or numeric text; `None` for other text.
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Int(i) => Some(*i != 0),
        Value::Float(f) => Some(*f != 0.0),
        Value::Text(s) => s.trim().parse::<f64>().ok().map(|f| f != 0.0),
        Value::Null | Value::Blob(_) => None,
    }
}

/// Text of a text-like or JSON column, borrowed from the row (JSONB's binary form is its text
/// after a version byte).
struct RawText<'a>(&'a str);

impl<'a> FromSql<'a> for RawText<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let raw = if *ty == Type::JSONB {
            raw.get(1..).unwrap_or_default()
        } else {
            raw
        };
        Ok(RawText(std::str::from_utf8(raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
                | Type::JSON
                | Type::JSONB
        ) || ty.name() == "citext"
    }
}

/// A NUMERIC column read as a float (Kiln's own columns are DOUBLE PRECISION; NUMERIC comes
/// from view expressions such as `SUM` over integers).
struct Numeric(f64);

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        // ndigits, weight, sign, dscale, then base-10000 digits (all big-endian i16/u16)
        let word = |i: usize| -> Result<i16, BoxError> {
            raw.get(i * 2..i * 2 + 2)
                .map(|b| i16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "short NUMERIC".into())
        };
        let (ndigits, weight, sign) = (word(0)?, word(1)?, word(2)? as u16);
        if sign == 0xC000 {
            return Ok(Numeric(f64::NAN));
        }
        let mut v = 0.0f64;
        for i in 0..ndigits.max(0) as usize {
            v += word(4 + i)? as f64 * 10000f64.powi(weight as i32 - i as i32);
        }
        Ok(Numeric(if sign == 0x4000 { -v } else { v }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// The value of column `idx` of `row`, as SQLite would have returned it: booleans as 0/1,
/// JSON as its text, types Kiln has no use for as NULL.
pub(crate) fn value_at(row: &postgres::Row, idx: usize) -> ValueRef<'_> {
    let Some(col) = row.columns().get(idx) else {
        return ValueRef::Null;
    };
    let ty = col.type_();
    let got = match *ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(idx)
            .map(|v| v.map(ValueRef::Int)),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(idx)
            .map(|v| v.map(|i| ValueRef::Int(i.into()))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(idx)
            .map(|v| v.map(|i| ValueRef::Int(i.into()))),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(idx)
            .map(|v| v.map(ValueRef::Float)),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(idx)
            .map(|v| v.map(|f| ValueRef::Float(f.into()))),
        Type::NUMERIC => row
            .try_get::<_, Option<Numeric>>(idx)
            .map(|v| v.map(|n| ValueRef::Float(n.0))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(idx)
            .map(|v| v.map(|b| ValueRef::Int(b as i64))),
        Type::BYTEA => row
            .try_get::<_, Option<&[u8]>>(idx)
            .map(|v| v.map(ValueRef::Blob)),
        _ if <RawText<'_> as FromSql<'_>>::accepts(ty) => row
            .try_get::<_, Option<RawText<'_>>>(idx)
            .map(|v| v.map(|t| ValueRef::Text(t.0))),
        _ => Ok(None),
    };
    got.ok().flatten().unwrap_or(ValueRef::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(v: Value, ty: Type) -> Result<Vec<u8>, BoxError> {
        let mut out = BytesMut::new();
        v.to_sql(&ty, &mut out)?;
        Ok(out.to_vec())
    }

    #[test]
    fn values_convert_to_the_inferred_type_as_sqlite_affinity_would() {
        assert_eq!(bind(Value::Int(5), Type::TEXT).unwrap(), b"5");
        assert_eq!(bind(Value::Float(1.5), Type::TEXT).unwrap(), b"1.5");
        assert_eq!(
            bind(Value::Text("5".into()), Type::FLOAT8).unwrap(),
            5.0f64.to_be_bytes()
        );
        assert!(f64::from_be_bytes(
            bind(Value::Text("abc".into()), Type::FLOAT8)
                .unwrap()
                .try_into()
                .unwrap()
        )
        .is_nan());
        assert_eq!(bind(Value::Int(1), Type::BOOL).unwrap(), [1]);
        assert_eq!(
            bind(Value::Text("[1]".into()), Type::JSONB).unwrap(),
            b"\x01[1]"
        );
        let mut out = BytesMut::new();
        assert!(matches!(
            Value::Text("true".into()).to_sql(&Type::BOOL, &mut out),
            Ok(IsNull::Yes)
        ));
        assert_eq!(bind(Value::Text("0".into()), Type::BOOL).unwrap(), [0]);
        assert!(bind(Value::Float(1.5), Type::INT8).is_err());
    }

    #[test]
    fn numerics_decode() {
        // 12345.678 = digits [1, 2345, 6780], weight 1, dscale 3
        let mut raw = Vec::new();
        for w in [3i16, 1, 0, 3, 1, 2345, 6780] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        let n = <Numeric as FromSql>::from_sql(&Type::NUMERIC, &raw)
            .unwrap()
            .0;
        assert!((n - 12345.678).abs() < 1e-9, "{n}");
    }
}

//! Values bound to and read from SQL statements.

use rusqlite::types::{ToSql, ToSqlOutput, ValueRef as SqlValueRef};

/// An owned SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A borrowed SQL value read from a row; valid until the row advances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Int(i64),
    Float(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl ValueRef<'_> {
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    /// The value as text, or `""` for NULL and non-text values.
    pub fn as_str(&self) -> &str {
        match self {
            ValueRef::Text(s) => s,
            _ => "",
        }
    }

    /// Numeric view: integers, reals, and numeric text; 0 otherwise.
    pub fn as_f64(&self) -> f64 {
        match *self {
            ValueRef::Int(i) => i as f64,
            ValueRef::Float(f) => f,
            ValueRef::Text(s) => s.trim().parse().unwrap_or(0.0),
            _ => 0.0,
        }
    }

    /// Truthiness as SQLite stores booleans (0/1, or text "true"/"1").
    pub fn as_bool(&self) -> bool {
        match *self {
            ValueRef::Int(i) => i != 0,
            ValueRef::Float(f) => f != 0.0,
            ValueRef::Text(s) => s == "1" || s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
}

impl<'a> From<SqlValueRef<'a>> for ValueRef<'a> {
    fn from(v: SqlValueRef<'a>) -> Self {
        match v {
            SqlValueRef::Null => ValueRef::Null,
            SqlValueRef::Integer(i) => ValueRef::Int(i),
            SqlValueRef::Real(f) => ValueRef::Float(f),
            // SQLite text is UTF-8 for every value Kiln writes; anything else reads as empty.
            SqlValueRef::Text(t) => ValueRef::Text(std::str::from_utf8(t).unwrap_or("")),
            SqlValueRef::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => SqlValueRef::Null,
            Value::Int(i) => SqlValueRef::Integer(*i),
            Value::Float(f) => SqlValueRef::Real(*f),
            Value::Text(s) => SqlValueRef::Text(s.as_bytes()),
            Value::Blob(b) => SqlValueRef::Blob(b),
        }))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Int(b as i64)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

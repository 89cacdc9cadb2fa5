//! Turning submitted values into field values (PocketBase's casting rules) and validating them.

use serde_json::{json, Map, Value};

use super::model::{geo_point, Record};
use crate::error::FieldError;
use crate::schema::field::num;
use crate::schema::field::{Field, FieldKind};

/// `^[class]+$`, `^[class]*$` or `^[class]{n}$` over ASCII ranges: checked byte by byte, far
/// cheaper than the regex engine for the id field's `^[a-z0-9]+$` on every write. `None` for any
/// other pattern.
fn class_pattern_matches(pattern: &str, text: &str) -> Option<bool> {
    let body = pattern.strip_prefix("^[")?;
    let (class, rest) = body.split_once(']')?;
    let (min, max) = match rest {
        "+$" => (1, usize::MAX),
        "*$" => (0, usize::MAX),
        _ => {
            let n: usize = rest.strip_prefix('{')?.strip_suffix("}$")?.parse().ok()?;
            (n, n)
        }
    };
    let c = class.as_bytes();
    if c.is_empty() || c[0] == b'^' || c.contains(&b'\\') || !class.is_ascii() {
        return None;
    }
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if i + 2 < c.len() && c[i + 1] == b'-' {
            ranges.push((c[i], c[i + 2]));
            i += 3;
        } else {
            ranges.push((c[i], c[i]));
            i += 1;
        }
    }
    let n = text.len();
    Some(
        n >= min
            && n <= max
            && text
                .bytes()
                .all(|b| ranges.iter().any(|&(lo, hi)| lo <= b && b <= hi)),
    )
}

/// Compiled field patterns, shared: validating a record must not compile a regex per write.
fn pattern_matches(pattern: &str, text: &str) -> bool {
    if let Some(m) = class_pattern_matches(pattern, text) {
        return m;
    }
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<regex::Regex>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let compiled = {
        let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = map.get(pattern) {
            hit.clone()
        } else {
            if map.len() >= 1024 {
                map.clear();
            }
            let r = crate::schema::pattern::compile(pattern).ok().map(Arc::new);
            map.insert(pattern.to_owned(), r.clone());
            r
        }
    };
    compiled.map(|r| r.is_match(text)).unwrap_or(false)
}

/// A body key's modifier: `field+`, `+field`, `field-`, `field:autogenerate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Set,
    Append,
    Prepend,
    Remove,
    Autogenerate,
}

/// Splits a body key into a field name and its modifier.
pub fn split_key(key: &str) -> (&str, Modifier) {
    if let Some(n) = key.strip_suffix(":autogenerate") {
        (n, Modifier::Autogenerate)
    } else if let Some(n) = key.strip_suffix('+') {
        (n, Modifier::Append)
    } else if let Some(n) = key.strip_prefix('+') {
        (n, Modifier::Prepend)
    } else if let Some(n) = key.strip_suffix('-') {
        (n, Modifier::Remove)
    } else {
        (key, Modifier::Set)
    }
}

/// PocketBase's `cast.ToString`.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => (f as i64).to_string(),
            _ => n.to_string(),
        },
        _ => String::new(),
    }
}

fn to_number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => parse_number_text(s),
        Value::Bool(b) => *b as i64 as f64,
        _ => 0.0,
    }
}

/// A number from text as PocketBase's `cast.ToFloat64` reads it: "NaN" and "Infinity" parse (and
/// then fail validation), while a numeral too large for a float is a range error, hence 0.
fn parse_number_text(s: &str) -> f64 {
    let t = s.trim();
    match t.parse::<f64>() {
        Ok(f) if f.is_infinite() => {
            let word = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
            if word == "inf" || word == "infinity" {
                f
            } else {
                0.0
            }
        }
        Ok(f) => f,
        Err(_) => 0.0,
    }
}

fn to_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
        Value::String(s) => matches!(s.trim(), "1" | "t" | "T" | "true" | "TRUE" | "True"),
        _ => false,
    }
}

/// A list of non-empty unique strings from a string, a list, or JSON text of a list.
pub(crate) fn to_list(v: &Value) -> Vec<String> {
    let items: Vec<String> = match v {
        Value::Array(a) => a.iter().map(to_text).collect(),
        Value::String(s) if s.trim_start().starts_with('[') => {
            match serde_json::from_str::<Vec<Value>>(s) {
                Ok(a) => a.iter().map(to_text).collect(),
                Err(_) => vec![s.clone()],
            }
        }
        Value::Null => vec![],
        other => vec![to_text(other)],
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for s in items {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

pub(crate) fn list_value(f: &Field, items: Vec<String>) -> Value {
    if f.is_multi() {
        Value::Array(items.into_iter().map(Value::String).collect())
    } else {
        Value::String(items.into_iter().last().unwrap_or_default())
    }
}

/// Whether field `f` accepts `modifier` (PocketBase ignores the others).
pub fn accepts(f: &Field, modifier: Modifier) -> bool {
    match modifier {
        Modifier::Set => true,
        Modifier::Autogenerate => matches!(f.kind, FieldKind::Text { .. }),
        Modifier::Append | Modifier::Remove => {
            matches!(
                f.kind,
                FieldKind::Number { .. }
                    | FieldKind::Select { .. }
                    | FieldKind::Relation { .. }
                    | FieldKind::File { .. }
            )
        }
        Modifier::Prepend => matches!(
            f.kind,
            FieldKind::Select { .. } | FieldKind::Relation { .. } | FieldKind::File { .. }
        ),
    }
}

/// The new value of field `f` after applying `raw` with `modifier` to `old`.
pub fn prepare(f: &Field, old: &Value, raw: &Value, modifier: Modifier) -> Value {
    match &f.kind {
        FieldKind::Number { .. } => {
            let delta = to_number(raw);
            let base = old.as_f64().unwrap_or(0.0);
            match modifier {
                Modifier::Append => num(base + delta),
                Modifier::Remove => num(base - delta),
                _ => num(to_number(raw)),
            }
        }
        FieldKind::Bool => Value::Bool(to_bool(raw)),
        FieldKind::Select { .. } | FieldKind::Relation { .. } | FieldKind::File { .. } => {
            let current = to_list(old);
            let given = to_list(raw);
            let items = match modifier {
                Modifier::Append => current.into_iter().chain(given).collect(),
                Modifier::Prepend => given.into_iter().chain(current).collect(),
                Modifier::Remove => current.into_iter().filter(|x| !given.contains(x)).collect(),
                _ => given,
            };
            let mut uniq: Vec<String> = Vec::with_capacity(items.len());
            for s in items {
                if !uniq.contains(&s) {
                    uniq.push(s);
                }
            }
            list_value(f, uniq)
        }
        FieldKind::Json { .. } => match raw {
            Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| raw.clone()),
            other => other.clone(),
        },
        FieldKind::GeoPoint => {
            let obj = match raw {
                Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or(Value::Null),
                other => other.clone(),
            };
            match obj {
                Value::Object(o) => geo_point(
                    o.get("lon").and_then(Value::as_f64).unwrap_or(0.0),
                    o.get("lat").and_then(Value::as_f64).unwrap_or(0.0),
                ),
                _ => geo_point(0.0, 0.0),
            }
        }
        FieldKind::Date { .. } => {
            Value::String(crate::datetime::normalize(&to_text(raw)).unwrap_or_default())
        }
        FieldKind::Text { .. }
        | FieldKind::Email { .. }
        | FieldKind::Url { .. }
        | FieldKind::Editor { .. } => Value::String(to_text(raw)),
        FieldKind::Autodate { .. } | FieldKind::Password { .. } => old.clone(),
    }
}

/// Whether `s` is an email address as email fields (and the account forms) accept it.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 255
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

/// The host of an http(s) URL, if it is one.
fn url_host(s: &str) -> Option<&str> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .or_else(|| {
            let (scheme, rest) = s.split_once("://")?;
            (!scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .then_some(rest)
        })?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map(|x| x.1).unwrap_or(authority);
    let host = host.split(':').next()?;
    let ok = !host.is_empty()
        && host.contains('.')
        && !s.chars().any(|c| c.is_whitespace())
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    (ok || host == "localhost").then_some(host)
}

fn domain_check(
    domain: &str,
    only: &[String],
    except: &[String],
    code: &'static str,
    what: &str,
) -> Result<(), FieldError> {
    let domain = domain.to_ascii_lowercase();
    let listed = |l: &[String]| l.iter().any(|d| d.eq_ignore_ascii_case(&domain));
    if (!only.is_empty() && !listed(only)) || (!except.is_empty() && listed(except)) {
        // PocketBase: "Email domain is not allowed." / "Url domain is not allowed."
        return Err(FieldError::new(
            code,
            format!("{what} domain is not allowed."),
        ));
    }
    Ok(())
}

/// Character count within `min` and `max` (`max` 0 means `default_max`).
fn check_length(s: &str, min: i64, max: i64, default_max: i64) -> Result<(), FieldError> {
    let n = s.chars().count() as i64;
    if min > 0 && n < min {
        return Err(FieldError::new(
            "validation_min_text_constraint",
            format!("Must be at least {min} character(s)."),
        )
        .with_params(json!({"min": min})));
    }
    let limit = if max > 0 { max } else { default_max };
    if n > limit {
        return Err(FieldError::new(
            "validation_max_text_constraint",
            format!("Must be no more than {limit} character(s)."),
        )
        .with_params(json!({"max": limit})));
    }
    Ok(())
}

/// A normalized datetime (`2020-01-01 00:00:00.000Z`) as PocketBase's validation messages show
/// it: Go's `time.Time` text (`2020-01-01 00:00:00 +0000 UTC`) and its JSON (RFC 3339,
/// `2020-01-01T00:00:00Z`), the fraction without trailing zeros.
fn go_time(normalized: &str) -> (String, String) {
    let date = normalized.get(..10).unwrap_or("");
    let time = normalized.get(11..19).unwrap_or("");
    let frac = normalized
        .get(20..)
        .unwrap_or("")
        .trim_end_matches('Z')
        .trim_end_matches('0');
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    (
        format!("{date} {time}{frac} +0000 UTC"),
        format!("{date}T{time}{frac}Z"),
    )
}

/// At most `max_select` (at least 1) values.
fn check_max_select(v: &Value, max_select: i64) -> Result<(), FieldError> {
    let n = match v {
        Value::Array(a) => a.len() as i64,
        _ => 1,
    };
    let max = max_select.max(1);
    if n > max {
        return Err(FieldError::new(
            "validation_too_many_values",
            format!("Select no more than {max}."),
        )
        .with_params(json!({"maxSelect": max})));
    }
    Ok(())
}

/// Checks a prepared value against the field's options.
pub fn validate(f: &Field, v: &Value) -> Result<(), FieldError> {
    // A number field holds null only when the submitted value was not finite (NaN, ±Inf).
    if matches!(f.kind, FieldKind::Number { .. }) && v.is_null() {
        return Err(FieldError::new(
            "validation_not_a_number",
            "The submitted number is not properly formatted.",
        ));
    }
    let blank = match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Bool(b) => !b,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => match &f.kind {
            FieldKind::GeoPoint => {
                o.get("lon").and_then(Value::as_f64) == Some(0.0)
                    && o.get("lat").and_then(Value::as_f64) == Some(0.0)
            }
            _ => o.is_empty(),
        },
    };
    if blank {
        return if f.required {
            Err(FieldError::required())
        } else {
            Ok(())
        };
    }
    match &f.kind {
        FieldKind::Text {
            min, max, pattern, ..
        } => {
            let s = v.as_str().unwrap_or("");
            check_length(s, *min, *max, 5000)?;
            if !pattern.is_empty() && !pattern_matches(pattern, s) {
                return Err(FieldError::new(
                    "validation_invalid_format",
                    "Invalid value format.",
                ));
            }
        }
        FieldKind::Number { min, max, only_int } => check_number(v, *min, *max, *only_int)?,
        FieldKind::Bool => {}
        FieldKind::Email {
            except_domains,
            only_domains,
        } => check_email(v, only_domains, except_domains)?,
        FieldKind::Url {
            except_domains,
            only_domains,
        } => check_url(v, only_domains, except_domains)?,
        FieldKind::Editor { max_size, .. } => check_editor(v, *max_size)?,
        FieldKind::Date { min, max } => check_date(v, min, max)?,
        FieldKind::Select { values, max_select } => check_select(v, values, *max_select)?,
        FieldKind::Relation {
            min_select,
            max_select,
            ..
        } => check_relation(v, *min_select, *max_select)?,
        FieldKind::File { max_select, .. } => check_file(v, *max_select)?,
        FieldKind::Json { max_size } => check_json(v, *max_size)?,
        FieldKind::GeoPoint => check_geo_point(v)?,
        FieldKind::Autodate { .. } | FieldKind::Password { .. } => {}
    }
    Ok(())
}

/// A number field's value: a finite number, an integer when asked, within min and max.
fn check_number(
    v: &Value,
    min: Option<f64>,
    max: Option<f64>,
    only_int: bool,
) -> Result<(), FieldError> {
    let Some(x) = v.as_f64().filter(|x| x.is_finite()) else {
        return Err(FieldError::new(
            "validation_not_a_number",
            "The submitted number is not properly formatted.",
        ));
    };
    if only_int && x.fract() != 0.0 {
        return Err(FieldError::new(
            "validation_only_int_constraint",
            "Decimal numbers are not allowed.",
        ));
    }
    if let Some(m) = min {
        if x < m {
            return Err(FieldError::new(
                "validation_min_number_constraint",
                format!("Must be greater or equal than {}.", num(m)),
            )
            .with_params(json!({"min": num(m)})));
        }
    }
    if let Some(m) = max {
        if x > m {
            return Err(FieldError::new(
                "validation_max_number_constraint",
                format!("Must be less or equal than {}.", num(m)),
            )
            .with_params(json!({"max": num(m)})));
        }
    }
    Ok(())
}

/// An email field's value: an address, its domain allowed.
fn check_email(
    v: &Value,
    only_domains: &[String],
    except_domains: &[String],
) -> Result<(), FieldError> {
    let s = v.as_str().unwrap_or("");
    if !is_email(s) {
        return Err(FieldError::new(
            "validation_is_email",
            "Must be a valid email address.",
        ));
    }
    let domain = s.rsplit_once('@').map(|x| x.1).unwrap_or("");
    domain_check(
        domain,
        only_domains,
        except_domains,
        "validation_email_domain_not_allowed",
        "Email",
    )
}

/// A URL field's value: a URL, its host allowed.
fn check_url(
    v: &Value,
    only_domains: &[String],
    except_domains: &[String],
) -> Result<(), FieldError> {
    let s = v.as_str().unwrap_or("");
    let Some(host) = url_host(s) else {
        return Err(FieldError::new(
            "validation_invalid_url",
            "Must be a valid url.",
        ));
    };
    domain_check(
        host,
        only_domains,
        except_domains,
        "validation_url_domain_not_allowed",
        "Url",
    )
}

/// An editor field's value: within its size limit (5 MiB by default).
fn check_editor(v: &Value, max_size: i64) -> Result<(), FieldError> {
    let limit = if max_size > 0 { max_size } else { 5 << 20 };
    if v.as_str().unwrap_or("").len() as i64 > limit {
        return Err(FieldError::new(
            "validation_content_size_limit",
            format!("The maximum allowed content size is {limit} bytes."),
        )
        .with_params(json!({"maxSize": limit})));
    }
    Ok(())
}

/// A date field's value: within min and max.
fn check_date(v: &Value, min: &str, max: &str) -> Result<(), FieldError> {
    let s = v.as_str().unwrap_or("");
    if let Some(m) = crate::datetime::normalize(min) {
        if s < m.as_str() {
            let (shown, threshold) = go_time(&m);
            return Err(FieldError::new(
                "validation_min_greater_equal_than_required",
                format!("Must be no less than {shown}."),
            )
            .with_params(json!({ "threshold": threshold })));
        }
    }
    if let Some(m) = crate::datetime::normalize(max) {
        if s > m.as_str() {
            let (shown, threshold) = go_time(&m);
            return Err(FieldError::new(
                "validation_max_less_equal_than_required",
                format!("Must be no greater than {shown}."),
            )
            .with_params(json!({ "threshold": threshold })));
        }
    }
    Ok(())
}

/// A select field's value: known values, at most max_select.
fn check_select(v: &Value, values: &[String], max_select: i64) -> Result<(), FieldError> {
    let items: Vec<&str> = match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => vec![s.as_str()],
        _ => vec![],
    };
    for item in &items {
        if !values.iter().any(|x| x == item) {
            return Err(FieldError::new(
                "validation_invalid_value",
                format!("Invalid value {item}."),
            )
            .with_params(json!({"value": item})));
        }
    }
    check_max_select(v, max_select)
}

/// A relation field's value: between min_select and max_select ids.
fn check_relation(v: &Value, min_select: i64, max_select: i64) -> Result<(), FieldError> {
    let n = v.as_array().map(|a| a.len() as i64).unwrap_or(1);
    if min_select > 0 && n < min_select {
        return Err(FieldError::new(
            "validation_not_enough_values",
            format!("Select at least {min_select}."),
        )
        .with_params(json!({"minSelect": min_select})));
    }
    check_max_select(v, max_select)
}

/// A file field's value: at most max_select names.
fn check_file(v: &Value, max_select: i64) -> Result<(), FieldError> {
    let n = v.as_array().map_or(1, Vec::len) as i64;
    let max = max_select.max(1);
    if n > max {
        return Err(FieldError::new(
            "validation_too_many_files",
            format!("The maximum allowed files is {max}."),
        )
        .with_params(json!({ "maxSelect": max })));
    }
    Ok(())
}

/// A JSON field's value: within its size limit (1 MiB by default).
fn check_json(v: &Value, max_size: i64) -> Result<(), FieldError> {
    let limit = if max_size > 0 { max_size } else { 1 << 20 };
    let size = v.to_string().len() as i64;
    if size > limit {
        return Err(FieldError::new(
            "validation_json_size_limit",
            format!("The maximum allowed JSON size is {limit} bytes."),
        )
        .with_params(json!({"maxSize": limit})));
    }
    Ok(())
}

/// A geo point's value: a longitude and a latitude in range.
fn check_geo_point(v: &Value) -> Result<(), FieldError> {
    let lon = v.get("lon").and_then(Value::as_f64).unwrap_or(0.0);
    let lat = v.get("lat").and_then(Value::as_f64).unwrap_or(0.0);
    if !(-180.0..=180.0).contains(&lon) {
        return Err(FieldError::new(
            "validation_invalid_longitude",
            "Longitude must be between -180 and 180 degrees.",
        ));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(FieldError::new(
            "validation_invalid_latitude",
            "Latitude must be between -90 and 90 degrees.",
        ));
    }
    Ok(())
}

/// Validates a plain password against a password field's options.
pub fn validate_password(f: &Field, plain: &str) -> Result<(), FieldError> {
    let FieldKind::Password {
        min, max, pattern, ..
    } = &f.kind
    else {
        return Ok(());
    };
    if plain.is_empty() {
        return if f.required {
            Err(FieldError::required())
        } else {
            Ok(())
        };
    }
    // argon2 has no input limit, but an unbounded password is a cheap way to burn CPU.
    // PocketBase reports password lengths without params.
    check_length(plain, *min, *max, 71).map_err(|mut e| {
        e.params = None;
        e
    })?;
    if !pattern.is_empty() && !pattern_matches(pattern, plain) {
        return Err(FieldError::new(
            "validation_invalid_format",
            "Invalid value format.",
        ));
    }
    Ok(())
}

impl Record {
    /// Sets the values server-side code gave fields (PocketBase's `record.set`), normalised as a
    /// submitted value would be (`"5"` for a number is 5, one id for a multiple relation a
    /// list). Names that are no field, and password fields (whose plain value is hashed before
    /// a write, never here), are left alone.
    pub fn assign(&mut self, values: &Map<String, Value>) {
        for (name, raw) in values {
            let Some(i) = self.collection.field_index(name) else {
                continue;
            };
            let f = &self.collection.fields[i];
            if matches!(f.kind, FieldKind::Password { .. }) {
                continue;
            }
            self.values[i] = prepare(f, &self.values[i], raw, Modifier::Set);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_and_casting() {
        assert_eq!(split_key("tags+"), ("tags", Modifier::Append));
        assert_eq!(split_key("+tags"), ("tags", Modifier::Prepend));
        assert_eq!(split_key("tags-"), ("tags", Modifier::Remove));
        assert_eq!(
            split_key("code:autogenerate"),
            ("code", Modifier::Autogenerate)
        );
        let n = Field::new(
            "n",
            FieldKind::Number {
                min: None,
                max: None,
                only_int: false,
            },
        );
        assert_eq!(
            prepare(&n, &json!(5), &json!(2), Modifier::Append),
            json!(7)
        );
        assert_eq!(
            prepare(&n, &json!(5), &json!("2"), Modifier::Remove),
            json!(3)
        );
        let tags = Field::new(
            "tags",
            FieldKind::Select {
                values: vec!["a".into(), "b".into()],
                max_select: 3,
            },
        );
        assert_eq!(
            prepare(&tags, &json!(["a"]), &json!("b"), Modifier::Append),
            json!(["a", "b"])
        );
        assert_eq!(
            prepare(&tags, &json!(["a", "b"]), &json!(["a"]), Modifier::Remove),
            json!(["b"])
        );
        assert_eq!(
            prepare(&tags, &json!([]), &json!("[\"a\",\"a\"]"), Modifier::Set),
            json!(["a"])
        );
    }

    #[test]
    fn class_patterns_agree_with_the_regex_engine() {
        for (p, t) in [
            ("^[a-z0-9]+$", "abc123"),
            ("^[a-z0-9]+$", "ABC"),
            ("^[a-z0-9]+$", ""),
            ("^[a-z]*$", ""),
            ("^[0-9]{3}$", "123"),
            ("^[0-9]{3}$", "12"),
            ("^[a-z-]+$", "a-b"),
        ] {
            let fast = class_pattern_matches(p, t).expect(p);
            assert_eq!(
                fast,
                crate::schema::pattern::compile(p).unwrap().is_match(t),
                "{p} {t:?}"
            );
        }
        assert!(class_pattern_matches("^(a|b)$", "a").is_none());
        assert!(class_pattern_matches("^[^a]+$", "b").is_none());
    }

    #[test]
    fn validation_codes_match_pocketbase() {
        let url = Field::new(
            "site",
            FieldKind::Url {
                except_domains: vec![],
                only_domains: vec![],
            },
        );
        assert_eq!(
            validate(&url, &json!("notaurl")).unwrap_err().code,
            "validation_invalid_url"
        );
        assert!(validate(&url, &json!("https://example.com/x?y")).is_ok());
        let views = Field::new(
            "views",
            FieldKind::Number {
                min: Some(0.0),
                max: None,
                only_int: true,
            },
        );
        assert_eq!(
            validate(&views, &json!(-1.5)).unwrap_err().code,
            "validation_only_int_constraint"
        );
        assert_eq!(
            validate(&views, &json!(-1)).unwrap_err().code,
            "validation_min_number_constraint"
        );
        let email = Field::new(
            "e",
            FieldKind::Email {
                except_domains: vec![],
                only_domains: vec!["a.com".into()],
            },
        );
        assert_eq!(
            validate(&email, &json!("x@b.com")).unwrap_err().code,
            "validation_email_domain_not_allowed"
        );
        assert_eq!(
            validate(&email, &json!("nope")).unwrap_err().code,
            "validation_is_email"
        );
        let title = Field::new(
            "t",
            FieldKind::Text {
                min: 0,
                max: 3,
                pattern: String::new(),
                autogenerate_pattern: String::new(),
                primary_key: false,
            },
        )
        .required();
        assert_eq!(
            validate(&title, &json!("")).unwrap_err().code,
            "validation_required"
        );
        assert_eq!(
            validate(&title, &json!("abcd")).unwrap_err().code,
            "validation_max_text_constraint"
        );
    }
}
